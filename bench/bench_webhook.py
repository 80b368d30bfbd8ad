"""Benchmark: latency of one signed Shopify orders/create webhook, payload handed to the worker.

    .venv/bin/python bench/bench_webhook.py                  # fresh SQLite in /tmp
    .venv/bin/python bench/bench_webhook.py --requests 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench \
        .venv/bin/python bench/bench_webhook.py

Posts the documented Shopify order payload (treu/connectors/tests/payloads/shopify_order.json),
signed like Shopify signs it, through Django's full request stack (test client: middleware,
URL routing, view), each with a new X-Shopify-Webhook-Id. The view verifies the HMAC, stores
the raw delivery and enqueues the huey job after the commit (SqliteHuey in a temporary
directory, or RedisHuey when REDIS_URL is set); no worker runs, so nothing is processed
inline. Reports p50/p95/max per request and exits non-zero when p95 misses 50 ms.
With DATABASE_URL set, rows are added to that database (a connection "bench-webhook"):
use a throwaway one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 50.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-webhook-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ["HUEY_IMMEDIATE"] = "0"
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from huey.contrib.djhuey import HUEY

    from treu.commerce.models import Order
    from treu.connectors import services, shopify
    from treu.connectors.models import DeliveryStatus, InboundDelivery, ShopConnection

    call_command("migrate", verbosity=0)
    setup_test_environment()
    connection_ = ShopConnection.objects.filter(shop__code="bench-webhook").first()
    if connection_ is None:
        connection_ = services.create_connection(
            code="bench-webhook", name="Bench Shopify", platform="shopify"
        )
    body = (ROOT / "treu/connectors/tests/payloads/shopify_order.json").read_bytes()
    body = json.dumps(json.loads(body)).encode()  # compact, as Shopify sends it
    signature = shopify.sign(connection_.secret, body)
    client = Client()
    url = f"/hooks/shopify/{connection_.shop.code}/"
    run_id = f"{time.time_ns()}"
    queued_before = HUEY.pending_count()
    orders_before = Order.objects.count()

    def post(n: int, prefix: str = run_id) -> float:
        started = time.perf_counter()
        response = client.post(
            url,
            body,
            content_type="application/json",
            HTTP_X_SHOPIFY_HMAC_SHA256=signature,
            HTTP_X_SHOPIFY_TOPIC="orders/create",
            HTTP_X_SHOPIFY_WEBHOOK_ID=f"{prefix}-{n}",
        )
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"request {n}: HTTP {response.status_code} {response.content!r}")
        return elapsed

    for n in range(args.warmup):
        post(n, prefix=f"warm-{run_id}")
    times = sorted(post(n) for n in range(args.requests))

    p50 = statistics.median(times)
    p95 = times[int(0.95 * (len(times) - 1))]
    queued = HUEY.pending_count() - queued_before
    stored = InboundDelivery.objects.filter(
        connection=connection_, delivery_id__startswith=run_id, status=DeliveryStatus.RECEIVED
    ).count()
    print(f"database      {connection.vendor}  ({HUEY.__class__.__name__} queue)")
    print(f"payload       {len(body):,} bytes, signed Shopify orders/create")
    print(f"requests      {args.requests} (+{args.warmup} warm-up)")
    print(f"p50           {p50:6.2f} ms")
    print(f"p95           {p95:6.2f} ms   (target < {TARGET_P95_MS:.0f} ms)")
    print(f"max           {times[-1]:6.2f} ms")
    print(f"stored        {stored} deliveries (status received), {queued} jobs queued")
    print(f"processed     {Order.objects.count() - orders_before} orders inline (expected 0)")
    ok = p95 < TARGET_P95_MS and Order.objects.count() == orders_before
    ok = ok and stored == args.requests and queued >= args.requests
    print("result        " + ("OK" if ok else "MISSED"))
    HUEY.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
