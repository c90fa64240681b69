"""Run every benchmark: ``python -m bench`` (or ``./gigasite bench``).

Each module in ``bench/`` named ``bench_*.py`` with a ``main(argv)`` function is run in
turn; arguments after ``--only NAME`` pick one. Results are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help="run only bench_NAME")
    args, rest = parser.parse_known_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import bench

    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n in (args.only, f"bench_{args.only}")]
        if not names:
            parser.error(f"no benchmark named {args.only!r}")
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "main"):
            continue
        print(f"\n=== {name} ===", flush=True)
        module.main(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
