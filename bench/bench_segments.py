"""Benchmark: a segment with five rules — live count, full refresh, event-driven update.

    .venv/bin/python bench/bench_segments.py --customers 20000     # fresh SQLite file in /tmp
    psql -h 127.0.0.1 -U postgres -c "create database treu_bench_segments"   # must be empty
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench_segments \\
        .venv/bin/python bench/bench_segments.py                     # 100,000 customers
    DATABASE_URL=... .venv/bin/python bench/bench_segments.py --customers 1000000

Writes N customers with the order figures commerce keeps on the customer row (0–12 orders,
first and last order over the last three years, total spent), a tag on 30 % of them
("Newsletter", plus "Großhandel" on 5 %), loyalty members for 60 % with a tier for two
thirds of those (Bronze, Silber, Gold). No orders are written: none of the five rules
reads them (they read the figures kept from the orders). The segment:

    order count >= 2  AND  total spent >= 100 €  AND  last order not within 60 days
    AND  tag is "Newsletter"  AND  loyalty tier is Silber or Gold

Then times: the live count (the editor's query, best and worst of 5), the first fill and a
full refresh 45 days later (time moves members in and out: INSERT … SELECT and DELETE …
NOT EXISTS, plus the segment.entered/left events), and the event-driven update of one
customer whose figures just changed (`update_memberships([id])`, 300 customers, p50/p95).
Checks the stored members against a per-customer Python reading of the five rules for a
sample of 3,000 customers. The issue's targets on 1,000,000 customers (PostgreSQL): count
< 1 s, full refresh < 30 s, one customer's update < 50 ms.

With DATABASE_URL set, that database is migrated and must be EMPTY; otherwise a new SQLite
file in a temporary directory is used and removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 50_000
TARGETS = {"count": 1.0, "refresh": 30.0, "update_p95": 0.050}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--updates", type=int, default=300)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-segments-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    sys.path.insert(0, str(ROOT))
    try:
        return run(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _columns(model, now) -> tuple[list[str], list]:
    """Column names and defaults of every concrete field but the primary key."""
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


def populate(customers: int, *, seed: int, now) -> dict:
    """N customers with figures, tags, members and tiers; set-based writes (COPY on PostgreSQL)."""
    from django.db import transaction

    from treu.core.bulk import insert_rows
    from treu.customers.models import Customer, Tag
    from treu.loyalty.models import Member, MemberTier, Tier

    rng = random.Random(seed)
    newsletter = Tag.objects.create(name="Newsletter")
    wholesale = Tag.objects.create(name="Großhandel")
    tiers = [
        Tier.objects.create(name=name, rank=rank, threshold=threshold)
        for name, rank, threshold in (("Bronze", 1, 5_000), ("Silber", 2, 15_000),
                                      ("Gold", 3, 40_000))
    ]  # fmt: skip
    names, defaults = _columns(Customer, now)
    pos = {n: i for i, n in enumerate(names)}
    tag_through = Customer.tags.through
    span = 3 * 365 * 86_400
    for start in range(0, customers, CHUNK):
        count = min(CHUNK, customers - start)
        rows = []
        for k in range(count):
            n = start + k + 1
            row = list(defaults)
            row[pos["number"]] = n
            row[pos["email"]] = f"seg{n}@example.de"
            row[pos["first_name"]], row[pos["last_name"]] = "Kundin", f"Nr. {n}"
            orders = rng.choice((0, 1, 1, 1, 2, 2, 3, 4, 6, 12))
            if orders:
                first = now - timedelta(seconds=rng.randrange(span))
                last = first + (now - first) * rng.random() if orders > 1 else first
                row[pos["order_count"]] = orders
                row[pos["first_order_at"]], row[pos["last_order_at"]] = first, last
                row[pos["total_spent_cents"]] = sum(
                    rng.randrange(1_500, 9_000) for _ in range(orders)
                )
            rows.append(row)
        with transaction.atomic():
            ids = insert_rows(Customer, names, rows)
            tags = []
            for customer_id in ids:
                if rng.random() < 0.30:
                    tags.append((customer_id, newsletter.pk))
                if rng.random() < 0.05:
                    tags.append((customer_id, wholesale.pk))
            insert_rows(tag_through, ["customer_id", "tag_id"], tags, return_ids=False)
            joined = [c for c in ids if rng.random() < 0.60]
            member_ids = insert_rows(
                Member,
                ["customer_id", "joined_at", "points_balance", "pending_points", "credit_cents",
                 "created_at", "updated_at"],
                [(c, now - timedelta(days=400), rng.randrange(0, 2_000), 0, 0, now, now)
                 for c in joined],
            )  # fmt: skip
            insert_rows(
                MemberTier,
                ["member_id", "tier_id", "held_until", "notice_for", "pinned", "updated_at"],
                [(m, rng.choice(tiers).pk, None, None, False, now)
                 for m in member_ids if rng.random() < 2 / 3],
                return_ids=False,
            )  # fmt: skip
    return {"newsletter": newsletter.pk, "silver": tiers[1].pk, "gold": tiers[2].pk}


def five_rules(ids: dict) -> dict:
    return {
        "version": 1,
        "match": "all",
        "groups": [
            {
                "match": "all",
                "conditions": [
                    {"field": "order_count", "op": "gte", "value": 2},
                    {"field": "total_spent", "op": "gte", "value": 10_000},
                    {"field": "last_order", "op": "not_within", "value": 60},
                    {"field": "tags", "op": "in", "value": [str(ids["newsletter"])]},
                    {"field": "loyalty_tier", "op": "in",
                     "value": [str(ids["silver"]), str(ids["gold"])]},
                ],
            }
        ],
    }  # fmt: skip


def expected_members(customer_ids: list[int], ids: dict, *, now) -> set[int]:
    """The five rules read per customer in Python, from the rows (not from the rule SQL)."""
    from django.utils import timezone

    from treu.customers.models import Customer
    from treu.loyalty.models import MemberTier

    cutoff = timezone.localdate(now) - timedelta(days=60)
    tagged = set(
        Customer.tags.through.objects.filter(
            customer_id__in=customer_ids, tag_id=ids["newsletter"]
        ).values_list("customer_id", flat=True)
    )
    tiers = dict(
        MemberTier.objects.filter(member__customer_id__in=customer_ids).values_list(
            "member__customer_id", "tier_id"
        )
    )
    found = set()
    rows = Customer.objects.filter(pk__in=customer_ids).values_list(
        "pk", "order_count", "total_spent_cents", "last_order_at", "erased_at"
    )
    for pk, orders, spent, last, erased in rows:
        if (
            erased is None
            and orders >= 2
            and spent >= 10_000
            and last is not None
            and timezone.localdate(last) < cutoff
            and pk in tagged
            and tiers.get(pk) in (ids["silver"], ids["gold"])
        ):
            found.add(pk)
    return found


def check(segment, ids: dict, *, now, sample: int = 3_000, seed: int = 7) -> int:
    """Sample customers whose stored membership differs from the Python reading."""
    from treu.customers.models import Customer
    from treu.messaging.models import SegmentMembership

    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    picked = random.Random(seed).sample(range(1, top + 1), min(sample, top))
    stored = set(
        SegmentMembership.objects.filter(segment=segment, customer_id__in=picked).values_list(
            "customer_id", flat=True
        )
    )
    return len(stored ^ expected_members(picked, ids, now=now))


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from treu.customers.models import Customer
    from treu.messaging.models import Segment
    from treu.messaging.segments import rules, services

    call_command("migrate", verbosity=0)
    if Customer.objects.exists():
        print("The database already holds customers; use an empty one.", file=sys.stderr)
        return 2
    now = timezone.now()
    started = time.monotonic()
    ids = populate(args.customers, seed=args.seed, now=now)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"database        {connection.vendor} ({connection.settings_dict['NAME']}), "
          f"load average {_load()}")  # fmt: skip
    print(f"setup           {args.customers:,} customers in "
          f"{time.monotonic() - started:.1f} s (not timed)")  # fmt: skip
    tree = rules.normalise(five_rules(ids))

    counts = []
    for _ in range(5):
        started = time.monotonic()
        matching = rules.members(tree, now=now).count()
        counts.append(time.monotonic() - started)
    print(f"count           {min(counts):.3f} s best, {max(counts):.3f} s worst of 5: "
          f"{matching:,} customers  (target < {TARGETS['count']:.0f} s)")  # fmt: skip

    segment = Segment.objects.create(name="Fünf Regeln", rules=tree)
    started = time.monotonic()
    first = services.refresh_segment(segment.pk, now=now)
    fill = time.monotonic() - started
    print(f"first fill      {fill:.2f} s: {first.entered:,} members, no events  (load {_load()})")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would after a million inserts
            cursor.execute("VACUUM ANALYZE messaging_segmentmembership")
    later = now + timedelta(days=45)
    started = time.monotonic()
    moved = services.refresh_segment(segment.pk, now=later)
    refresh = time.monotonic() - started
    print(f"refresh +45 d   {refresh:.2f} s: {moved.entered:,} entered, {moved.left:,} left, "
          f"events published  (target < {TARGETS['refresh']:.0f} s)")  # fmt: skip
    wrong = check(segment, ids, now=later)

    rng = random.Random(args.seed + 1)
    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    times = []
    for _ in range(args.updates):
        customer_id = rng.randrange(1, top + 1)
        # What an order would do to the figures: one more order, more spent, ordered now
        # (or, for every third, a long-ago last order: the customer may enter).
        last = later if rng.random() < 2 / 3 else later - timedelta(days=200)
        Customer.objects.filter(pk=customer_id).update(
            order_count=2, total_spent_cents=20_000, last_order_at=last
        )
        started = time.monotonic()
        services.update_memberships([customer_id], now=later)
        times.append(time.monotonic() - started)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"update 1        p50 {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
          f"max {times[-1] * 1000:.1f} ms over {len(times)} customers "
          f"(target p95 < {TARGETS['update_p95'] * 1000:.0f} ms)")  # fmt: skip
    wrong += check(segment, ids, now=later, seed=8)
    segment.refresh_from_db()
    stored_ok = segment.member_count == rules.members(tree, now=later).count()
    # Not a target: what filling a segment that holds most customers costs (the write path).
    buyers = Segment.objects.create(
        name="Alle Käufer",
        rules=rules.normalise({"groups": [{"conditions": [
            {"field": "order_count", "op": "gte", "value": 1}]}]}),
    )  # fmt: skip
    started = time.monotonic()
    filled = services.refresh_segment(buyers.pk, now=later)
    print(f"big first fill  {time.monotonic() - started:.2f} s: {filled.entered:,} members "
          f"(order count >= 1; not a target)")  # fmt: skip
    print(f"check           sample customers stored wrongly: {wrong}; "
          f"member count equals the rules' count: {stored_ok}")  # fmt: skip
    return 1 if wrong or not stored_ok else 0


def _load() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
