"""Reference-data load: every shipped dataset into an empty SQLite database, all or nothing.

    python -m bench --only reference_load [--repeats 3]

Each repeat migrates a new database in a temporary directory, then times
``manage.py load_reference_data`` as a whole process (start-up included), so nothing is cached
between repeats. Prints min, median and max; asserts nothing. Target: under a minute.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _manage(args: list[str], database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench reference_load")
    parser.add_argument("--repeats", type=int, default=3)
    args, _ = parser.parse_known_args(argv)
    times = []
    for _ in range(max(1, args.repeats)):
        with tempfile.TemporaryDirectory(prefix="gigasite-bench-load-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'load.sqlite3'}"
            _manage(["migrate", "--noinput", "-v", "0"], url)
            started = time.perf_counter()
            _manage(["load_reference_data"], url)
            times.append(time.perf_counter() - started)
    print(
        f"  reference load into empty SQLite, whole process ({len(times)} runs): "
        f"min {min(times):.1f} s, median {statistics.median(times):.1f} s, max {max(times):.1f} s",
        flush=True,
    )
