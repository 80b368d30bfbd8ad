"""Benchmark: batch ingestion of customers and orders with lines, first time and replayed.

    .venv/bin/python bench/bench_ingest.py                          # 20,000 orders, fresh SQLite
    .venv/bin/python bench/bench_ingest.py --orders 100000 --customers 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench_ingest \\
        .venv/bin/python bench/bench_ingest.py

Generates (deterministically, --seed) M customers and N orders of 1-4 lines and feeds them
through `customers.services.upsert_customers` and `commerce.services.ingest_orders` in
batches of 1,000, the way the batch API and the importers do. Then feeds the very same data
again: a replay must write nothing. Reports orders/s for both passes and peak memory.

With DATABASE_URL set, that database is migrated and must be EMPTY (use a throwaway one:
psql -h 127.0.0.1 -U postgres -c "create database treu_bench_ingest"). Otherwise a new
SQLite file in a temporary directory is used and removed afterwards (--keep keeps it).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_ORDERS_PER_SECOND = 2000  # the issue: batch ingestion on PostgreSQL, two cores
FIRST_NAMES = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Jürgen", "Lena", "Max"]
LAST_NAMES = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Weiß"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary SQLite file.")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-ingest-"))
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


def chunks(items, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def customer_inputs(args, shop) -> list:
    from treu.customers.services import CustomerInput

    rng = random.Random(args.seed)
    return [
        CustomerInput(
            shop=shop,
            external_id=f"C{i}",
            email=f"kunde{i}@example.de",
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            phone=f"0170 {rng.randrange(10**7):07d}" if rng.random() < 0.5 else "",
        )
        for i in range(args.customers)
    ]


def order_batches(args, shop, customer_ids: list[int], catalogue: list[tuple[str, str, int]]):
    """The orders, one batch at a time (so memory holds one batch, not the whole history)."""
    from treu.commerce.services import LineInput, OrderInput

    rng = random.Random(args.seed + 1)
    start = datetime(2025, 6, 30, tzinfo=UTC) - timedelta(days=730)
    for first in range(0, args.orders, args.batch):
        batch = []
        for n in range(first, min(first + args.batch, args.orders)):
            lines = []
            for k in range(rng.randint(1, 4)):
                sku, title, price = rng.choice(catalogue)
                lines.append(
                    LineInput(
                        title=title,
                        sku=sku,
                        quantity=rng.randint(1, 3),
                        unit_price_cents=price,
                        tax_rate_bp=700,
                        external_id=f"{n}-{k}",
                    )
                )
            shipping = 0 if sum(x.total_cents for x in lines) >= 3900 else 490
            placed = start + timedelta(seconds=rng.randrange(730 * 86400))
            batch.append(
                OrderInput(
                    shop=shop,
                    external_id=str(100000 + n),
                    number=f"#{100000 + n}",
                    customer_id=rng.choice(customer_ids),
                    placed_at=placed,
                    paid_at=placed,
                    lines=lines,
                    shipping_cents=shipping,
                    total_cents=sum(x.total_cents for x in lines) + shipping,
                    source_updated_at=placed,
                    source="bench",
                )
            )
        yield batch


def counts() -> dict[str, int]:
    from treu.commerce.models import Order, OrderLine
    from treu.core.models import DomainEvent
    from treu.customers.models import Customer, ExternalId

    return {
        "customers": Customer.objects.count(),
        "links": ExternalId.objects.count(),
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "events": DomainEvent.objects.count(),
    }


def ingest(args, shop, catalogue, *, expect_new: bool) -> tuple[float, float]:
    from treu.commerce.services import IngestResult, ingest_orders
    from treu.customers.services import UpsertResult, upsert_customers

    started = time.monotonic()
    customer_ids = []
    for batch in chunks(customer_inputs(args, shop), args.batch):
        for result in upsert_customers(batch, event_source="bench"):
            assert isinstance(result, UpsertResult), result
            assert result.created == expect_new and (expect_new or not result.changed)
            customer_ids.append(result.customer.pk)
    customers_seconds = time.monotonic() - started

    orders_seconds = 0.0
    for batch in order_batches(args, shop, customer_ids, catalogue):
        started = time.monotonic()
        results = ingest_orders(batch)
        orders_seconds += time.monotonic() - started
        for result in results:
            assert isinstance(result, IngestResult), result
            assert result.created == expect_new and result.changed == expect_new
    return customers_seconds, orders_seconds


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from treu.commerce.models import Shop, ShopKind
    from treu.commerce.services import upsert_product
    from treu.core import events

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.monotonic() - started
    if counts()["orders"]:
        print("The database already holds orders; use an empty one.", file=sys.stderr)
        return 2

    shop, _created = Shop.objects.get_or_create(
        code="bench", defaults={"name": "Bench-Shop", "kind": ShopKind.SHOPIFY}
    )
    catalogue = []
    for i in range(40):
        sku, name, price = f"BENCH-{i:03d}", f"Kaffee Nr. {i}", 690 + 100 * i
        upsert_product(sku=sku, name=name, price_cents=price, tax_rate_bp=700)
        catalogue.append((sku, name, price))

    first_customers, first_orders = ingest(args, shop, catalogue, expect_new=True)
    after_first = counts()
    replay_customers, replay_orders = ingest(args, shop, catalogue, expect_new=False)
    after_replay = counts()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    subscribers = sum(len(events.subscribers_of(k)) for k in ("order.ingested",))
    print(f"database      {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"data          {args.customers:,} customers, {after_first['orders']:,} orders, "
          f"{after_first['lines']:,} lines, {after_first['events']:,} events "
          f"(batches of {args.batch:,}, seed {args.seed})")  # fmt: skip
    print(f"subscribers   {subscribers} on order.ingested (dispatched after each commit)")
    print(f"migrate       {migrate_seconds:.1f} s (not counted)")
    orders = args.orders
    print(
        f"first run     customers {args.customers / first_customers:,.0f}/s "
        f"({first_customers:.1f} s), orders {orders / first_orders:,.0f}/s ({first_orders:.1f} s)"
    )
    print(
        f"replay        customers {args.customers / replay_customers:,.0f}/s "
        f"({replay_customers:.1f} s), orders {orders / replay_orders:,.0f}/s "
        f"({replay_orders:.1f} s)"
    )
    idempotent = after_first == after_replay
    print(f"idempotent    {'yes: the replay wrote nothing' if idempotent else 'NO'} "
          f"({after_replay})")  # fmt: skip
    print(f"peak memory   {peak_mib:,.0f} MiB (maxrss)")
    ok = idempotent
    if connection.vendor == "postgresql":
        met = orders / first_orders >= TARGET_ORDERS_PER_SECOND
        print(f"target        {TARGET_ORDERS_PER_SECOND:,} orders/s: {'met' if met else 'MISSED'}")
        ok = ok and met
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
