"""Start, wait for, and stop real Celery worker processes (integration tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """A ``celery -A config worker`` process (with its pool children) in its own session."""

    def __init__(
        self, name: str, env: dict[str, str], log_dir: Path, concurrency: int = 1, queue: str | None = None
    ) -> None:
        self.name = name
        self.log_path = Path(log_dir) / f"{name}.log"
        self._log = open(self.log_path, "wb")
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            f"--concurrency={concurrency}",
            "-n",
            f"{name}@%h",
        ]
        if queue:
            args += ["-Q", queue]
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until the worker says it is ready; raise with its log if it dies or stalls."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.log()[-3000:]}")
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.name} not ready after {timeout_s} s:\n{self.log()[-3000:]}")

    def wait_consuming(self, app, timeout_s: float = 60.0) -> None:
        """Block until the worker answers a broadcast ping: its consumer loop is running.

        "ready." is logged before the first fetch from the broker; a test that needs two
        workers sharing a run waits for this so one fast worker cannot drain the queue alone.
        """
        import socket

        name = f"{self.name}@{socket.gethostname()}"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.log()[-3000:]}")
            if app.control.ping(destination=[name], timeout=1.0):
                return
        raise RuntimeError(f"worker {self.name} did not answer a ping after {timeout_s} s:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """Kill the worker and its pool children at once, as a crash or the OOM killer would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Ask for a warm shutdown; kill if it does not come."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
