"""Benchmark: the back office's customer list and search on a large shop.

    .venv/bin/python bench/bench_customer_list.py                       # 100,000 customers, SQLite
    .venv/bin/python bench/bench_customer_list.py --db /tmp/shop.sqlite3 # reuse a built shop
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench \
        .venv/bin/python bench/bench_customer_list.py

Builds the demo shop (unless the database already holds enough customers), then
requests each list page through Django's test client as the owner and reports
the median and 95th percentile time per page and its query count. With
DATABASE_URL set, that database's demo data is replaced: use a throwaway one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCENARIOS = [
    ("first page, newest first", {}),
    ("page 40", {"page": "40"}),
    ("search name prefix 'mül'", {"q": "mül"}),
    ("search full name 'schmidt anna'", {"q": "schmidt anna"}),
    ("search email prefix", {"q": "anna."}),
    ("search customer number", {"q": "K010500"}),
    ("repeat buyers by total spent", {"buyer": "repeat", "ordering": "-spent"}),
    ("one-time buyers, last order", {"buyer": "once", "ordering": "-last_order"}),
    ("store customers, name order", {"source_channel": "store", "ordering": "name"}),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", type=Path, help="SQLite file to build into or reuse.")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-list-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    if not os.environ.get("DATABASE_URL"):
        db = args.db or workdir / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{db.resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import setup_test_environment

    from treu.core.roles import OWNER
    from treu.customers.models import Customer
    from treu.demo.generator import DemoOptions, build_demo, reset_demo
    from treu.demo.progress import Progress

    call_command("migrate", verbosity=0)
    if Customer.objects.count() < args.customers:
        reset_demo()
        progress = Progress(args.customers, label="customers")
        build_demo(
            DemoOptions(customers=args.customers, seed=42, years=3, until=date(2025, 6, 30)),
            progress=progress.update,
        )
        progress.finish()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    total = Customer.objects.count()

    setup_test_environment()
    settings.DEBUG = True  # record queries
    settings.ALLOWED_HOSTS = ["testserver"]
    user, _ = User.objects.get_or_create(username="bench-owner")
    user.groups.add(Group.objects.get(name=OWNER.group_name))
    client = Client()
    client.force_login(user)

    print(f"\nCustomer list on {connection.vendor}, {total:,} customers, {args.runs} runs each")
    print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'hits':>8}")
    worst_p95 = 0.0
    for label, params in SCENARIOS:
        timings = []
        for _ in range(args.runs):
            reset_queries()
            started = time.perf_counter()
            response = client.get("/customers/", params)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        queries = len(connection.queries)
        hits = response.context["page"].paginator.count
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        worst_p95 = max(worst_p95, p95)
        print(f"{label:40} {p50:8.1f} {p95:8.1f} {queries:8d} {hits:8,d}")
    print(f"worst p95: {worst_p95:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
