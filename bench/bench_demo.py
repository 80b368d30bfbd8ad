"""Benchmark: build the demo shop into a fresh database and report speed and memory.

    .venv/bin/python bench/bench_demo.py                    # 10,000 customers, fresh SQLite file
    .venv/bin/python bench/bench_demo.py --customers 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench .venv/bin/python bench/bench_demo.py

With DATABASE_URL set, that database is migrated and its demo data REPLACED
(use a throwaway database). Otherwise a new SQLite file in a temporary
directory is used and removed afterwards (--keep keeps it).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS_10K = 60  # the target: 10,000 customers in under a minute on SQLite


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument(
        "--until",
        type=date.fromisoformat,
        default=date(2025, 6, 30),
        help="Fixed by default, so every run builds the same data (YYYY-MM-DD).",
    )
    parser.add_argument("--fingerprint", action="store_true", help="Also print the data's hash.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary SQLite file.")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    sys.path.insert(0, str(ROOT))
    try:
        return run(args)
    finally:
        if args.keep:
            print(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from treu.demo.generator import DemoOptions, build_demo, reset_demo
    from treu.demo.progress import Progress

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.monotonic() - started
    reset_demo()

    progress = Progress(args.customers, label="customers")
    result = build_demo(
        DemoOptions(customers=args.customers, seed=args.seed, years=args.years, until=args.until),
        progress=progress.update,
    )
    progress.finish()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    rows = result.customers + result.orders + result.order_lines + result.returns + result.events
    print(f"database      {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"customers     {result.customers:,}")
    lines, returns = result.order_lines, result.returns
    print(f"orders        {result.orders:,} ({lines:,} lines, {returns:,} returns)")
    print(f"events        {result.events:,}")
    print(f"build time    {result.seconds:.1f} s (migrate {migrate_seconds:.1f} s, not counted)")
    print(
        f"throughput    {result.orders / result.seconds:,.0f} orders/s, "
        f"{result.customers / result.seconds:,.0f} customers/s, {rows / result.seconds:,.0f} rows/s"
    )
    print(f"peak memory   {peak_mib:,.0f} MiB (maxrss)")
    if args.fingerprint:
        from treu.demo.fingerprint import fingerprint

        print(f"fingerprint   {fingerprint()['hash']}")
    if connection.vendor == "sqlite" and args.customers == 10_000:
        ok = result.seconds < TARGET_SECONDS_10K
        print(
            f"target        10,000 customers < {TARGET_SECONDS_10K} s: {'met' if ok else 'MISSED'}"
        )
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
