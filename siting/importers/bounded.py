"""Run one function in a child process with hard limits on time and memory.

Reading an untrusted file is the one step whose cost the file decides: a GeoPackage whose
layer is a view over a query that never ends keeps GDAL busy forever, and a CSV can ask pandas
for gigabytes. The reading runs here, in a forked child: ``RLIMIT_CPU`` and a wall-clock kill
bound its time, ``RLIMIT_AS`` its memory. The parent keeps the temporary directory (the child
only gets paths in it) and removes it in ``finally``, so a killed child leaves nothing behind.

Fork, not spawn: the child starts in milliseconds with the parent's imports, settings and
active language, and ends with ``os._exit`` (never running the parent's exit handlers or
touching its database connections).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import resource
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

CPU_GRACE_S = 5
"""Seconds of CPU between the soft limit's SIGXCPU and the hard limit's SIGKILL. [s]"""


class LimitExceeded(Exception):
    """The child ran out of time (``kind == "time"``), memory (``"memory"``) or crashed (``"crash"``)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


def _address_space_bytes() -> int:
    """Return this process's current virtual size (forked children start with the parent's). [byte]"""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0  # pragma: no cover - /proc always has it on Linux


def _child(fn: Callable[..., Any], args: tuple[Any, ...], result_path: str, cpu_s: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + CPU_GRACE_S))
    # The limit is on growth: a forked child already holds the parent's address space.
    limit = _address_space_bytes() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        outcome: tuple[str, Any] = ("ok", fn(*args))
    except MemoryError:
        outcome = ("memory", "")
    except BaseException as exc:  # the parent decides what an error means
        outcome = ("raised", exc)
    tmp = f"{result_path}.part"
    try:
        with open(tmp, "wb") as fh:
            pickle.dump(outcome, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        os._exit(3)
    except Exception as exc:  # an exception that does not pickle: send its text
        with open(tmp, "wb") as fh:
            pickle.dump(
                (
                    "raised",
                    RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}" if outcome[0] == "raised" else str(exc)),
                ),
                fh,
            )
    os.replace(tmp, result_path)


def run_bounded(fn: Callable[..., Any], *args: Any, workdir: Path, timeout_s: float, memory_bytes: int) -> Any:
    """Return ``fn(*args)`` computed in a child process, or raise what it raised.

    Parameters
    ----------
    fn, args
        A module-level function and its (picklable) arguments; the result must pickle.
    workdir : Path
        A directory the caller owns and removes; the result is passed back through a file there.
    timeout_s : float
        Wall-clock and CPU limit. [s]
    memory_bytes : int
        How much the child's address space may grow. [byte]

    Raises
    ------
    LimitExceeded
        The child was killed for time, could not get memory, or died otherwise.
    """
    result_path = Path(workdir) / ".bounded-result.pickle"
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(
        target=_child,
        args=(fn, args, str(result_path), max(1, int(timeout_s + 0.999)), int(memory_bytes)),
        name="bounded-reader",
    )
    proc.start()
    timed_out = False
    try:
        proc.join(timeout_s)
        timed_out = proc.is_alive()
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        exitcode = proc.exitcode
        proc.close()
    if timed_out:
        raise LimitExceeded("time", f"{timeout_s:g} s")
    if not result_path.exists():
        # Killed at the CPU limit (SIGXCPU, then SIGKILL), or died inside C code, most often
        # an allocation refused at the memory limit: either way there is no result.
        if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise LimitExceeded("time", f"CPU limit, exit {exitcode}")
        raise LimitExceeded("crash", f"exit {exitcode}")
    with result_path.open("rb") as fh:
        status, value = pickle.load(fh)
    result_path.unlink()
    if status == "ok":
        return value
    if status == "memory":
        raise LimitExceeded("memory")
    raise value


__all__ = ["LimitExceeded", "run_bounded"]
