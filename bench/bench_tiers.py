"""Benchmark: recomputing every member's tier (`loyalty.services.recompute_tiers`).

    .venv/bin/python bench/bench_tiers.py --members 20000        # fresh SQLite file in /tmp
    psql -h 127.0.0.1 -U postgres -c "create database treu_bench_tiers"   # must be empty
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench_tiers \\
        .venv/bin/python bench/bench_tiers.py                     # 100,000 members
    DATABASE_URL=... .venv/bin/python bench/bench_tiers.py --members 1000000

Writes N customers who are members, each with 0-5 orders over the last 18 months (about
5 % cancelled, 5 % partly refunded), and four tiers by spend over a rolling 12 months:
Silber 100 €, Gold 500 €, Platin 1.500 €, and an invite-only VIP tier for the top 1 % by
lifetime spend. Then times three full recomputes: the first (every member gets a tier row,
a `loyalty.tier_changed` event per upgrade), the nightly one the same day (nothing
changes), one 350 days later (orders left the window: downgrade notices) and one 400
days later (the downgrades). Checks
a sample of 2,000 members against a per-member computation afterwards. The issue's target:
1,000,000 members in under 60 s on PostgreSQL.

With DATABASE_URL set, that database is migrated and must be EMPTY; otherwise a new SQLite
file in a temporary directory is used and removed afterwards.
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
TARGET_SECONDS_PER_MILLION = 60.0
CHUNK = 50_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--period", choices=("rolling", "calendar"), default="rolling",
        help="qualification period of the tier settings (calendar: every notice and "
        "downgrade of the year on one night)",
    )  # fmt: skip
    parser.add_argument(
        "--reuse", action="store_true",
        help="run on a database this script populated before (its tier rows and tier "
        "events are deleted first) instead of an empty one",
    )  # fmt: skip
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-tiers-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    sys.path.insert(0, str(ROOT))
    try:
        return run(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _rows(model, values: dict, now) -> tuple[list[str], list]:
    """Column names and defaults of every concrete field, `values` taking precedence."""
    names, defaults = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(field.attname)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults.append(now)
        else:
            defaults.append(field.get_default())
    return names, defaults


def populate(members: int, *, seed: int = 42, now=None, period: str = "rolling") -> None:
    """N member customers with orders and four tiers; set-based writes (COPY on PostgreSQL)."""
    from django.db import transaction
    from django.utils import timezone

    from treu.commerce.models import Order, Shop, ShopKind
    from treu.core.bulk import insert_rows
    from treu.customers.models import Customer
    from treu.loyalty import services
    from treu.loyalty.models import Member, ProgramSettings

    now = now or timezone.now()
    rng = random.Random(seed)
    shop, _ = Shop.objects.get_or_create(
        code="bench", defaults={"name": "Bench-Shop", "kind": ShopKind.SHOPIFY}
    )
    services.update_program_settings(membership="opt_in", welcome_points=0)
    ProgramSettings.objects.update(created_at=now - timedelta(days=800))
    c_names, c_defaults = _rows(Customer, {}, now)
    o_names, o_defaults = _rows(Order, {}, now)
    c_pos = {n: i for i, n in enumerate(c_names)}
    o_pos = {n: i for i, n in enumerate(o_names)}
    base = (Customer.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    order_no = 0
    for start in range(0, members, CHUNK):
        count = min(CHUNK, members - start)
        customers, orders = [], []
        for k in range(count):
            n = start + k
            row = list(c_defaults)
            row[c_pos["number"]] = base + n
            row[c_pos["email"]] = f"tier{base + n}@example.de"
            customers.append(row)
        with transaction.atomic():
            ids = insert_rows(Customer, c_names, customers)
            spent = dict.fromkeys(ids, 0)
            for customer_id in ids:
                for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 5))):
                    total = rng.randrange(1_500, 60_000)
                    cancelled = rng.random() < 0.05
                    refunded = rng.randrange(total // 2) if rng.random() < 0.05 else 0
                    tax = total * 7 // 107
                    order_no += 1
                    row = list(o_defaults)
                    row[o_pos["shop_id"]] = shop.pk
                    row[o_pos["external_id"]] = row[o_pos["number"]] = f"T{base}-{order_no}"
                    row[o_pos["customer_id"]] = customer_id
                    row[o_pos["status"]] = "cancelled" if cancelled else "paid"
                    row[o_pos["subtotal_cents"]] = row[o_pos["total_cents"]] = total
                    row[o_pos["tax_cents"]], row[o_pos["net_cents"]] = tax, total - tax
                    row[o_pos["refunded_cents"]] = refunded
                    row[o_pos["placed_at"]] = now - timedelta(seconds=rng.randrange(540 * 86400))
                    orders.append(row)
                    if not cancelled:
                        spent[customer_id] += total - refunded
            insert_rows(Order, o_names, orders, return_ids=False)
            # The customers' lifetime figures (the VIP rule reads them) as commerce keeps them.
            from treu.core.bulk import update_values

            update_values(Customer, ["total_spent_cents"], list(spent.items()))
            insert_rows(
                Member,
                ["customer_id", "joined_at", "points_balance", "pending_points", "credit_cents",
                 "created_at", "updated_at"],
                [(cid, now - timedelta(days=700), 0, 0, 0, now, now) for cid in ids],
                return_ids=False,
            )  # fmt: skip
    services.update_tier_settings(basis="spend", period=period, notice_days=30, vip_top_percent=1)
    for rank, (name, euros) in enumerate((("Silber", 100), ("Gold", 500), ("Platin", 1500)), 1):
        services.save_tier(name=name, rank=rank, threshold=euros * 100)
    services.save_tier(name="VIP", rank=9, invite_only=True)


def verify(sample: int = 2_000, *, now=None, seed: int = 7) -> int:
    """Members of a random sample whose tier is not what a per-member computation says."""
    from django.utils import timezone

    from treu.loyalty import tier_selectors
    from treu.loyalty.models import Member, MemberTier

    now = now or timezone.now()
    settings = tier_selectors.tier_settings()
    tiers = tier_selectors.tier_list()
    ids = list(Member.objects.values_list("pk", "customer_id"))
    picked = random.Random(seed).sample(ids, min(sample, len(ids)))
    values = tier_selectors.qualifying_values(
        settings, now=now, members={cid: mid for mid, cid in picked}
    )
    states = dict(
        MemberTier.objects.filter(member_id__in=[m for m, _ in picked]).values_list(
            "member_id", "tier__name"
        )
    )
    wrong = 0
    for member_id, _customer_id in picked:
        expected = tier_selectors.qualified_tier(tiers, values.get(member_id, 0))
        actual = states.get(member_id)
        if actual == "VIP":
            continue  # the VIP rule ranks all members; checked by its own tests
        if actual != (expected.name if expected else None):
            wrong += 1
    return wrong


def reset_tiers(period: str) -> None:
    """Forget every member's tier and the tier events (for --reuse), set the period."""
    from django.db import connection

    from treu.core.models import DomainEvent
    from treu.loyalty import services
    from treu.loyalty.events import TIER_CHANGED, TIER_DOWNGRADE_NOTICE
    from treu.loyalty.models import MemberTier

    # Plain DELETEs: a million rows must not be loaded just to be removed.
    MemberTier.objects.all()._raw_delete(MemberTier.objects.db)
    tier_events = DomainEvent.objects.filter(kind__in=[TIER_CHANGED, TIER_DOWNGRADE_NOTICE])
    tier_events._raw_delete(tier_events.db)
    services.update_tier_settings(period=period)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE core_domainevent")


def nights(now, period: str) -> list[tuple[str, object]]:
    """The timed runs: the first, the same day, the notice night, the downgrade night."""
    from treu.loyalty import tier_selectors

    runs = [("first", now), ("same day", now + timedelta(hours=1))]
    if period == "rolling":  # the figures of earlier runs were taken on these days
        return [*runs, ("350 days on", now + timedelta(days=350)),
                ("400 days on", now + timedelta(days=400))]  # fmt: skip
    # Calendar year: every tier reached this year holds to the end of the next one; all
    # notices go out on one night and all downgrades happen on 1 January.
    # The notice night is the one a full notice period before the end: a notice sent later
    # would (rightly) hold the tier until the notice period has run, past 1 January.
    settings = tier_selectors.tier_settings()
    held = tier_selectors.held_until_for(settings, now)
    return [*runs, ("notice night", held - timedelta(days=settings.notice_days)),
            ("1 January", held + timedelta(hours=1))]  # fmt: skip


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from treu.commerce.models import Order
    from treu.core.models import DomainEvent
    from treu.loyalty import services, tier_selectors
    from treu.loyalty.models import Member

    call_command("migrate", verbosity=0)
    now = timezone.now()
    started = time.monotonic()
    if args.reuse:
        if not Order.objects.filter(shop__code="bench").exists():
            print("--reuse: the database holds no orders of this benchmark.", file=sys.stderr)
            return 2
        reset_tiers(args.period)
        args.members = Member.objects.count()
    elif Order.objects.exists():
        print("The database already holds orders; use an empty one.", file=sys.stderr)
        return 2
    else:
        populate(args.members, seed=args.seed, now=now, period=args.period)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"database        {connection.vendor} ({connection.settings_dict['NAME']}), "
          f"period {args.period}, load average {_load()}")  # fmt: skip
    print(f"setup           {args.members:,} members, {Order.objects.count():,} orders "
          f"in {time.monotonic() - started:.1f} s (not timed)")  # fmt: skip
    first, wrong, worst = None, 0, 0.0
    for label, at in nights(now, args.period):
        if connection.vendor == "postgresql":
            # Nightly runs are a day apart: autovacuum has cleared the previous run's dead
            # rows by then, so each timed run starts from a vacuumed table as in production.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE loyalty_membertier")
        events_before = DomainEvent.objects.count()
        started = time.monotonic()
        result = services.recompute_tiers(now=at)
        seconds = time.monotonic() - started
        first = first if first is not None else seconds
        worst = max(worst, seconds)
        published = DomainEvent.objects.count() - events_before
        print(f"{label:15} {seconds:7.2f} s  up {result.upgraded:,}, down {result.downgraded:,}, "
              f"notices {result.notices:,}, events {published:,}  (load {_load()})")  # fmt: skip
        print("                " + ", ".join(
            f"{name} {value:.1f}" for name, value in result.phases.items()))  # fmt: skip
        if label == "first":
            wrong = verify(now=at)
            rows = tier_selectors.tier_distribution()
            print("distribution    " + ", ".join(f"{r.name} {r.members:,}" for r in rows))
    per_million = worst / args.members * 1_000_000
    print(f"check           sample members in the wrong tier: {wrong}")
    print(f"slowest night   {per_million:.1f} s per 1,000,000 members "
          f"(target < {TARGET_SECONDS_PER_MILLION:.0f} s)")  # fmt: skip
    return 1 if wrong else 0


def _load() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
