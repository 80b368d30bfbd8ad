"""Benchmark: the recommendations' part of the analytics recompute, the campaign selector and
the pages, on the demo shop or on a synthetic coffee roaster of about a million order lines.

    .venv/bin/python bench/bench_recommendations.py --demo 2000   # the demo shop (make demo)
    .venv/bin/python bench/bench_recommendations.py               # 112,000 customers, ~1M lines
    .venv/bin/python bench/bench_recommendations.py --db /tmp/reco.sqlite3   # keep, reuse
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench_recs \\
        .venv/bin/python bench/bench_recommendations.py

The synthetic shop uses the demo roaster's catalogue: every customer drinks filter coffee,
espresso or tea (some buy a grinder, a machine or a kettle with the first order), reorders
their beans at about the product's interval per unit bought (log-normal noise, sometimes
two bags, sometimes another bean of the same kind) and now and then adds filter papers,
cleaning tablets or a mug; 2 % of orders are cancelled. It is written straight into the
tables (bulk inserts), so building a million lines takes minutes, not the demo generator's
hours. With DATABASE_URL set that database is migrated and, unless it already holds
orders, filled (use a throwaway database).

In a fresh child process (so the peak memory is the measurement's own) it then times
`recommendations.computation.compute` (`--runs` times, inside a transaction each), one
full `recompute_analytics`, `recommendations_for_customers` for every customer in batches
of 2,000 (an email campaign to all of them), `customers_running_out(within_days=7)`, and
the recommendations page, a customer page and a product page as the owner (p50 / p95).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 30 * 0.2  # "a small share" of the 30 s full recompute


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=112_000)
    parser.add_argument("--demo", type=int, metavar="N", help="Build the demo shop instead.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--until", type=date.fromisoformat, default=date(2025, 6, 30))
    parser.add_argument("--db", type=Path, help="SQLite file to reuse or keep.")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--page-runs", type=int, default=20)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-reco-"))
    os.environ.setdefault("TREU_VAR_DIR", str(workdir))
    if not os.environ.get("DATABASE_URL"):
        db = args.db or workdir / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{db.resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    sys.path.insert(0, str(ROOT))
    try:
        return measure(args) if args.measure else run(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from treu.commerce.models import Order, OrderLine

    call_command("migrate", verbosity=0)
    if not Order.objects.exists():
        started = time.monotonic()
        if args.demo:
            build_demo(args)
        else:
            build_synthetic(args)
        print(f"built the shop in {time.monotonic() - started:.0f} s")
    print(
        f"database: {connection.vendor}, orders: {Order.objects.count():,}, "
        f"order lines: {OrderLine.objects.count():,}"
    )
    connection.close()
    child = subprocess.run(  # noqa: S603 - this very script, with our own arguments
        [sys.executable, __file__, "--measure", "--runs", str(args.runs),
         "--page-runs", str(args.page_runs), "--until", args.until.isoformat()],
        env=os.environ.copy(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if child.returncode != 0:
        print(child.stdout, child.stderr, file=sys.stderr)
        return child.returncode
    r = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"recommendations step: best {r['best']:.2f} s, worst {r['worst']:.2f} s "
        f"({r['customer_products']:,} customer-product rows, {r['pairs']:,} related rows, "
        f"{r['reorder']} reorder intervals); peak memory {r['peak_mib']:.0f} MiB"
    )
    print(f"full recompute_analytics: {r['full']:.1f} s (recommendations included)")
    print(
        f"campaign: recommendations for {r['campaign_customers']:,} customers in "
        f"{r['campaign']:.1f} s; running out in 7 days: {r['running_out']:,} rows in "
        f"{r['running_out_ms']:.0f} ms"
    )
    for name, (median, p95, queries) in r["pages"].items():
        print(f"{name}: median {median:.0f} ms, p95 {p95:.0f} ms, {queries} queries")
    load = os.getloadavg()
    print(f"machine load average (1/5/15 min): {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    return 0


def build_demo(args) -> None:
    import dataclasses

    from treu.demo.generator import DemoOptions, register_step, reset_demo, steps
    from treu.demo.generator import build_demo as build

    reset_demo()
    for step in steps():  # the recompute is timed below, not during the build
        if step.finish is not None:
            register_step(dataclasses.replace(step, finish=None))
    build(DemoOptions(customers=args.demo, seed=args.seed, years=3, until=args.until))


def build_synthetic(args) -> None:
    from django.db import transaction

    from treu.core import bulk
    from treu.customers.models import Customer
    from treu.demo import catalogue

    rng = random.Random(args.seed)
    until = datetime(args.until.year, args.until.month, args.until.day, tzinfo=UTC)
    start = until - timedelta(days=3 * 365)
    with transaction.atomic():
        cat = catalogue.ensure_catalogue(since=start)
    ids, defs = cat.product_ids, catalogue.BY_SKU
    kinds = {
        "filter": [p.sku for p in catalogue.PRODUCTS if p.group == "filter"],
        "espresso": [p.sku for p in catalogue.PRODUCTS if p.group == "espresso"],
        "tea": [p.sku for p in catalogue.PRODUCTS if p.group == "tea"],
    }
    gear = {
        "filter": ["Z-V60", "M-HAND", "Z-KESSEL", "Z-WAAGE", "A-DOSE"],
        "espresso": ["M-SIEB1", "M-SIEB2", "M-MUEHLE", "Z-TAMPER", "Z-MILCH"],
        "tea": ["Z-KESSEL", "A-THERMO", "A-BECHER"],
    }
    extras = {"filter": ["A-FILTER"], "espresso": ["A-REIN", "A-ENTK"], "tea": ["A-BECHER"]}
    batch = 5_000
    number = 700_000
    for first in range(0, args.customers, batch):
        n = min(batch, args.customers - first)
        with transaction.atomic():
            customers = bulk.bulk_create_with_ids(
                Customer,
                [
                    Customer(number=number + first + i, first_name="Bench", last_name=str(i))
                    for i in range(n)
                ],
            )
            orders = []
            for customer in customers:
                kind = rng.choices(["filter", "espresso", "tea"], weights=[5, 4, 1])[0]
                favourite = rng.choice(kinds[kind])
                at = start + timedelta(days=rng.uniform(0, 3 * 365))
                first_order = True
                while at < until:
                    basket = []
                    sku = favourite if rng.random() < 0.75 else rng.choice(kinds[kind])
                    qty = 2 if rng.random() < 0.2 else 1
                    basket.append((sku, qty))
                    if rng.random() < (0.35 if first_order else 0.08):
                        basket.append((rng.choice(gear[kind]), 1))
                    if rng.random() < 0.25:
                        basket.append((rng.choice(extras[kind]), 1))
                    orders.append((customer.pk, at, basket))
                    first_order = False
                    if rng.random() < 0.11:  # gone for good
                        break
                    days = (defs[sku].reorder_days or 30) * qty
                    at += timedelta(days=days * math.exp(rng.gauss(0, 0.35)))
            _write_orders(orders, ids=ids, defs=defs, shop=cat.online, rng=rng)
        print(f"  {first + n:,} customers", flush=True)


_seq = iter(range(1, 10**9))


def _write_orders(orders, *, ids, defs, shop, rng) -> None:
    from treu.commerce.models import Order, OrderLine, OrderStatus
    from treu.core import bulk

    order_objs, line_objs = [], []
    for customer_id, at, basket in orders:
        total = sum(defs[sku].price_cents * qty for sku, qty in basket)
        tax = sum(
            defs[sku].price_cents * qty * defs[sku].tax_rate_bp // (10000 + defs[sku].tax_rate_bp)
            for sku, qty in basket
        )
        n = next(_seq)
        cancelled = rng.random() < 0.02
        order_objs.append(
            Order(
                shop=shop, external_id=f"B{n}", number=f"#B{n}", customer_id=customer_id,
                status=OrderStatus.CANCELLED if cancelled else OrderStatus.DELIVERED,
                subtotal_cents=total, total_cents=total, tax_cents=tax, net_cents=total - tax,
                placed_at=at, cancelled_at=at if cancelled else None,
            )
        )  # fmt: skip
    order_objs = bulk.bulk_create_with_ids(Order, order_objs)
    for order, (_c, _at, basket) in zip(order_objs, orders, strict=True):
        for sku, qty in basket:
            d = defs[sku]
            gross = d.price_cents * qty
            line_objs.append(
                OrderLine(
                    order_id=order.pk, product_id=ids[sku], sku=sku, title=d.name, quantity=qty,
                    unit_price_cents=d.price_cents, total_cents=gross, tax_rate_bp=d.tax_rate_bp,
                    tax_cents=gross * d.tax_rate_bp // (10000 + d.tax_rate_bp),
                )
            )  # fmt: skip
    bulk.bulk_create_with_ids(OrderLine, line_objs)


def _peak_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pages(client, urls, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = {}
    for name, url in urls:
        client.get(url, HTTP_HOST="localhost", secure=True)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, HTTP_HOST="localhost", secure=True)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        samples.sort()
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        pages[name] = (statistics.median(samples), p95, len(queries))
    return pages


def measure(args) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import transaction
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from treu.analytics import selectors, services
    from treu.analytics.models import RelatedProduct
    from treu.analytics.recommendations import computation
    from treu.commerce.models import Order
    from treu.core.roles import OWNER
    from treu.customers.models import Customer

    last = Order.objects.order_by("-placed_at").values_list("placed_at", flat=True).first()
    now = last + timedelta(hours=1)
    times = []
    for _ in range(args.runs):
        with transaction.atomic():
            started = time.monotonic()
            result = computation.compute(now=now)
            times.append(time.monotonic() - started)
    started = time.monotonic()
    services.recompute_analytics(now=now)
    full = time.monotonic() - started
    peak = _peak_mib()

    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    started = time.monotonic()
    for first in range(0, len(ids), 2_000):
        selectors.recommendations_for_customers(ids[first : first + 2_000], limit=3)
    campaign = time.monotonic() - started
    started = time.perf_counter()
    running_out = len(list(selectors.customers_running_out(within_days=7, now=now)))
    running_out_ms = (time.perf_counter() - started) * 1000

    owner, _ = User.objects.get_or_create(username="bench-owner")
    owner.groups.add(Group.objects.get(name=OWNER.group_name))
    client = Client()
    client.force_login(owner)
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    customer = ids[len(ids) // 2]
    product = RelatedProduct.objects.order_by("product_id").first()
    urls = [
        ("recommendations page", reverse("analytics:recommendations")),
        ("customer page", reverse("customers:detail", args=[customer])),
    ]
    if product is not None:
        urls.append(("product page", reverse("commerce:product_detail", args=[product.product_id])))
    pages = _pages(client, urls, args.page_runs)
    print(
        json.dumps(
            {
                "best": min(times), "worst": max(times), "peak_mib": peak, "full": full,
                "customer_products": result.customer_products, "pairs": result.pairs,
                "reorder": result.reorder_products, "campaign": campaign,
                "campaign_customers": len(ids), "running_out": running_out,
                "running_out_ms": running_out_ms, "pages": pages,
            }
        )
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
