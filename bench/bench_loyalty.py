"""Benchmark: what awarding loyalty points adds to batch ingestion, per order.

    .venv/bin/python bench/bench_loyalty.py                     # 10,000 orders, fresh SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench_loyalty \\
        .venv/bin/python bench/bench_loyalty.py --orders 20000

Makes M customers members of a running programme, then ingests N orders of 1-4 lines
through `commerce.services.ingest_orders` in batches of 1,000 (as the batch API and the
CSV import do) twice: once with loyalty's subscribers unplugged, once plugged in (other
orders, same shape). The difference per order is what loyalty adds; the issue's target is
under 2 ms per order on PostgreSQL. Checks afterwards that every order earned points and
that each member's balance equals the ledger sum.

With DATABASE_URL set, that database is migrated and must be EMPTY (use a throwaway one:
psql -h 127.0.0.1 -U postgres -c "create database treu_bench_loyalty"). Otherwise a new
SQLite file in a temporary directory is used and removed afterwards.
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
TARGET_MS_PER_ORDER = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-loyalty-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    sys.path.insert(0, str(ROOT))
    try:
        return run(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def order_batches(args, shop, customer_ids: list[int], *, prefix: str):
    from django.utils import timezone

    from treu.commerce.services import LineInput, OrderInput

    rng = random.Random(f"{args.seed}{prefix}")
    now = timezone.now()
    for first in range(0, args.orders, args.batch):
        batch = []
        for n in range(first, min(first + args.batch, args.orders)):
            lines = [
                LineInput(
                    title=f"Kaffee {k}",
                    sku=f"BENCH-{rng.randrange(40):03d}",
                    quantity=rng.randint(1, 3),
                    unit_price_cents=rng.randrange(490, 4990),
                    tax_rate_bp=700,
                    external_id=f"{n}-{k}",
                )
                for k in range(rng.randint(1, 4))
            ]
            shipping = 0 if sum(x.total_cents for x in lines) >= 3900 else 490
            placed = now - timedelta(seconds=rng.randrange(20 * 86400))
            batch.append(
                OrderInput(
                    shop=shop,
                    external_id=f"{prefix}{n}",
                    customer_id=rng.choice(customer_ids),
                    placed_at=placed,
                    lines=lines,
                    shipping_cents=shipping,
                    total_cents=sum(x.total_cents for x in lines) + shipping,
                    source="bench",
                )
            )
        yield batch


def ingest(args, shop, customer_ids, *, prefix: str) -> float:
    from treu.commerce.services import IngestResult, ingest_orders

    seconds = 0.0
    for batch in order_batches(args, shop, customer_ids, prefix=prefix):
        started = time.monotonic()
        results = ingest_orders(batch)
        seconds += time.monotonic() - started
        assert all(isinstance(r, IngestResult) and r.created for r in results)
    return seconds


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import F, Q, Sum
    from django.utils import timezone

    from treu.commerce.models import Order, Shop, ShopKind
    from treu.core import events
    from treu.customers.services import CustomerInput, UpsertResult, upsert_customers
    from treu.loyalty import services
    from treu.loyalty.models import Member, PointsEntry, ProgramSettings

    call_command("migrate", verbosity=0)
    if Order.objects.exists():
        print("The database already holds orders; use an empty one.", file=sys.stderr)
        return 2
    shop, _created = Shop.objects.get_or_create(
        code="bench", defaults={"name": "Bench-Shop", "kind": ShopKind.SHOPIFY}
    )
    customer_ids = []
    for start in range(0, args.customers, args.batch):
        batch = [
            CustomerInput(shop=shop, external_id=f"C{i}", email=f"kunde{i}@example.de")
            for i in range(start, min(start + args.batch, args.customers))
        ]
        for result in upsert_customers(batch, event_source="bench"):
            assert isinstance(result, UpsertResult), result
            customer_ids.append(result.customer.pk)
    services.update_program_settings(membership="opt_in", welcome_points=0)
    year_ago = timezone.now() - timedelta(days=365)
    ProgramSettings.objects.update(created_at=year_ago)
    Member.objects.bulk_create([Member(customer_id=c, joined_at=year_ago) for c in customer_ids])

    # Unplugged: loyalty's subscribers taken off the bus for the baseline run.
    registries = (events._subscribers, events._batch_subscribers)
    saved = [{kind: list(subs) for kind, subs in registry.items()} for registry in registries]
    for registry in registries:
        for subs in registry.values():
            subs[:] = [s for s in subs if not s.handler.__module__.startswith("treu.loyalty")]
    without = ingest(args, shop, customer_ids, prefix="A")
    for registry, kept in zip(registries, saved, strict=True):
        registry.clear()
        registry.update(kept)
    earned_before = PointsEntry.objects.count()
    with_loyalty = ingest(args, shop, customer_ids, prefix="B")

    earned_orders = PointsEntry.objects.filter(kind="earn").values("order_id").distinct().count()
    mismatched = (
        Member.objects.annotate(
            ledger=Sum("entries__points", filter=Q(entries__status="available"), default=0),
            pending=Sum("entries__points", filter=Q(entries__status="pending"), default=0),
        )
        .exclude(points_balance=F("ledger"), pending_points=F("pending"))
        .count()
    )
    per_order_ms = (with_loyalty - without) / args.orders * 1000
    print(f"database        {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"orders          {args.orders:,} per run, batches of {args.batch:,}, "
          f"{args.customers:,} members")  # fmt: skip
    print(f"without loyalty {without:7.2f} s  ({args.orders / without:,.0f} orders/s)")
    print(f"with loyalty    {with_loyalty:7.2f} s  ({args.orders / with_loyalty:,.0f} orders/s)")
    print(f"loyalty adds    {per_order_ms:7.3f} ms per order (target < {TARGET_MS_PER_ORDER} ms)")
    print(f"check           {earned_orders:,} orders earned (ledger rows before: "
          f"{earned_before}); members whose sums differ from the ledger: {mismatched}")  # fmt: skip
    ok = earned_orders == args.orders and earned_before == 0 and mismatched == 0
    if not ok:
        print("FAILED: not every order earned, or a balance differs from its ledger")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
