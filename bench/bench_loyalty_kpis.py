"""Benchmark: the loyalty KPIs page's figures (`loyalty.kpis.loyalty_kpis`) on a big programme.

    .venv/bin/python bench/bench_loyalty_kpis.py                 # 100,000 members, fresh SQLite
    .venv/bin/python bench/bench_loyalty_kpis.py --members 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench_kpis \\
        .venv/bin/python bench/bench_loyalty_kpis.py

Writes M members (and half as many customers again who are not members), ten ledger rows
per member over the last 15 months and three orders per customer straight into a new
SQLite file (plain INSERTs: this measures reading, not the services), then times
`loyalty_kpis()` (best of three) and prints the query plans of its queries.

With DATABASE_URL set, that database is migrated and must be EMPTY (use a throwaway one:
psql -h 127.0.0.1 -U postgres -c "create database treu_bench_kpis").
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-kpis-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    sys.path.insert(0, str(ROOT))
    try:
        return run(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from treu.commerce.models import Shop
    from treu.loyalty import kpis
    from treu.loyalty.models import Reward

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    now = timezone.now()
    customers = args.members * 3 // 2
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        shop = Shop.objects.create(code="online", name="Onlineshop", kind="shopify")
        cur.executemany(
            "INSERT INTO customers_customer (id, created_at, updated_at, number, first_name,"
            " last_name, email, phone, language, order_count, total_spent_cents,"
            " search_first_last, search_last_first, source_channel)"
            " VALUES (%s, %s, %s, %s, 'A', 'B', %s, '', 'de', 0, 0, '', '', '')",
            [(i, now, now, i, f"k{i}@example.de") for i in range(1, customers + 1)],
        )
        cur.executemany(
            "INSERT INTO loyalty_member (id, created_at, updated_at, customer_id, joined_at,"
            " points_balance, pending_points, credit_cents) VALUES (%s, %s, %s, %s, %s, %s, %s, 0)",
            [
                (i, now, now, i, now, rng.randint(0, 900), rng.randint(0, 90))
                for i in range(1, args.members + 1)
            ],
        )
        kinds = [("earn", 1), ("earn", 1), ("earn", 1), ("earn", 1), ("earn", 1), ("earn", 1),
                 ("redeem", -1), ("expire", -1), ("reverse", -1), ("adjust", 1)]  # fmt: skip
        cur.executemany(
            "INSERT INTO loyalty_pointsentry (kind, points, status, available_at, reason,"
            " source_rule, unrecovered, created_at, member_id)"
            " VALUES (%s, %s, 'available', %s, '', '', 0, %s, %s)",
            [
                (kind, sign * rng.randint(1, 100), at, at, m)
                for m in range(1, args.members + 1)
                for kind, sign in kinds
                for at in [now - timedelta(minutes=rng.randint(0, 60 * 24 * 450))]
            ],
        )
        cur.executemany(
            "INSERT INTO commerce_order (created_at, updated_at, external_id, number, status,"
            " currency, subtotal_cents, shipping_cents, discount_cents, total_cents, tax_cents,"
            " net_cents, refunded_cents, placed_at, customer_id, shop_id)"
            " VALUES (%s, %s, %s, %s, %s, 'EUR', %s, 0, 0, %s, 0, %s, 0, %s, %s, %s)",
            [
                (
                    now,
                    now,
                    f"o{n}",
                    f"#{n}",
                    "cancelled" if n % 20 == 0 else "paid",
                    cents,
                    cents,
                    cents,
                    now - timedelta(minutes=rng.randint(0, 60 * 24 * 900)),
                    n % customers + 1,
                    shop.pk,
                )  # fmt: skip
                for n in range(customers * 3)
                for cents in [rng.randint(500, 9000)]
            ],
        )
        Reward.objects.create(name="5 €", kind="fixed_amount", points_cost=100, amount_cents=500)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")  # fresh statistics, as autovacuum would have by now
    cur_count = customers * 3
    print(f"data: {args.members:,} members, {args.members * 10:,} ledger rows, "
          f"{cur_count:,} orders, written in {time.perf_counter() - start:.1f} s")  # fmt: skip

    timings = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            figures = kpis.loyalty_kpis()
            timings.append(time.perf_counter() - t)
    best, queries = min(timings) * 1000, len(ctx.captured_queries)
    print(f"loyalty_kpis(): best {best:.0f} ms of 3, {queries} queries")
    liability, rate = figures.liability_cents / 100, figures.redemption_rate
    print(f"  members {figures.members:,}, active {figures.active_members:,}, ")
    print(f"  liability {liability:,.2f} EUR, redemption rate {rate:.3f}")
    with connection.cursor() as cur:
        explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        for q in ctx.captured_queries:
            cur.execute(explain + q["sql"])
            plan = "; ".join(str(row[-1]).strip() for row in cur.fetchall())
            print(f"  {float(q['time']) * 1000:6.0f} ms  {plan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
