"""Benchmark: the analytics recompute (KPIs, 36-month cohorts, RFM, the BG/NBD and Gamma-Gamma
fit and predictions) on the demo shop.

    .venv/bin/python bench/bench_analytics.py                      # 10,000 customers, fresh SQLite
    .venv/bin/python bench/bench_analytics.py --customers 200000   # about 1,000,000 orders
    .venv/bin/python bench/bench_analytics.py --db /tmp/shop.sqlite3  # reuse or keep a shop
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench \\
        .venv/bin/python bench/bench_analytics.py

Builds the demo coffee roaster with the demo generator (`--customers`, about 4.7 orders per
customer over 3 years until --until), or reuses the database given with --db / DATABASE_URL
when it already holds orders. Then, in a fresh child process so the peak memory is the
recompute's own, runs `services.recompute_analytics` `--runs` times and reports the best and
the worst time and the peak resident memory; finally requests the dashboard and the segment
page as the owner (test client) and reports median and 95th percentile.

With DATABASE_URL set, that database is migrated and, unless it already holds orders,
its demo data REPLACED (use a throwaway database).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 30  # the issue: full recompute for 1,000,000 orders under 30 s
TARGET_PAGE_MS = 150


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--until", type=date.fromisoformat, default=date(2025, 6, 30))
    parser.add_argument("--db", type=Path, help="SQLite file to reuse or keep.")
    parser.add_argument("--runs", type=int, default=2, help="Recompute runs (best is reported).")
    parser.add_argument("--page-runs", type=int, default=20)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-analytics-"))
    os.environ.setdefault("TREU_VAR_DIR", str(workdir))
    if not os.environ.get("DATABASE_URL"):
        db = args.db or workdir / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{db.resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    sys.path.insert(0, str(ROOT))
    try:
        if args.measure:
            return measure(args)
        return run(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from treu.commerce.models import Order
    from treu.demo.generator import DemoOptions, build_demo, register_step, reset_demo, steps
    from treu.demo.progress import Progress

    call_command("migrate", verbosity=0)
    if not Order.objects.exists():
        reset_demo()
        progress = Progress(args.customers, label="customers")
        # The analytics step would recompute at the end of the build: it is timed below.
        for step in steps():
            if step.finish is not None:
                register_step(dataclasses.replace(step, finish=None))
        started = time.monotonic()
        build_demo(
            DemoOptions(customers=args.customers, seed=args.seed, years=3, until=args.until),
            progress=progress.update,
        )
        progress.finish()
        print(f"built the demo shop in {time.monotonic() - started:.1f} s")
    orders = Order.objects.count()
    vendor = connection.vendor
    print(f"database: {vendor}, orders: {orders:,}")
    connection.close()

    child = subprocess.run(  # noqa: S603 - this very script, with our own arguments
        [sys.executable, __file__, "--measure", "--runs", str(args.runs),
         "--page-runs", str(args.page_runs)],
        env=os.environ.copy(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if child.returncode != 0:
        print(child.stdout, child.stderr, file=sys.stderr)
        return child.returncode
    result = json.loads(child.stdout.strip().splitlines()[-1])
    load = os.getloadavg()
    print(
        f"recompute: best {result['best']:.1f} s, worst {result['worst']:.1f} s over "
        f"{args.runs} runs; peak memory {result['peak_mib']:.0f} MiB "
        f"({result['customers']:,} customers, {result['orders']:,} orders)"
    )
    for name, (median, p95, queries) in result["pages"].items():
        print(f"{name}: median {median:.0f} ms, p95 {p95:.0f} ms, {queries} queries")
    print(f"machine load average (1/5/15 min): {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    if result["orders"] >= 1_000_000 and result["best"] > TARGET_SECONDS:
        print(f"MISSED: over {TARGET_SECONDS} s for a million orders", file=sys.stderr)
        return 1
    return 0


def _peak_mib() -> float:
    """This process's peak resident memory. VmHWM starts afresh at exec; ru_maxrss would
    carry the parent's size over from the fork (the demo build's, when it built one)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(args) -> int:
    """In the child: recompute, then request the pages; one JSON line on stdout."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    from treu.analytics import services
    from treu.core.roles import OWNER

    times = []
    for _ in range(args.runs):
        started = time.monotonic()
        result = services.recompute_analytics()
        times.append(time.monotonic() - started)
    peak_mib = _peak_mib()

    owner, _ = User.objects.get_or_create(username="bench-owner")
    owner.groups.add(Group.objects.get(name=OWNER.group_name))
    client = Client()
    client.force_login(owner)
    pages = {}
    # No collectstatic here: the pages link their CSS without the manifest's hashed names.
    plain_static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    )
    plain_static.enable()
    for name, url in (
        ("dashboard", reverse("analytics:dashboard")),
        ("segments", reverse("analytics:segments")),
        ("drill-down", reverse("analytics:customers") + "?metric=segment&segment=at_risk"),
    ):
        client.get(url, HTTP_HOST="localhost", secure=True)
        samples = []
        for _ in range(args.page_runs):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, HTTP_HOST="localhost", secure=True)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        samples.sort()
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        pages[name] = (statistics.median(samples), p95, len(queries))
    print(
        json.dumps(
            {
                "best": min(times),
                "worst": max(times),
                "peak_mib": peak_mib,
                "orders": result.orders,
                "customers": result.customers,
                "pages": pages,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
