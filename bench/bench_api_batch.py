"""Benchmark: the batch API end to end, POST /api/v1/orders/batch with 1,000 orders per call.

    .venv/bin/python bench/bench_api_batch.py                       # fresh SQLite in /tmp
    psql -h 127.0.0.1 -U postgres -c "create database treu_bench_api"   # must be empty
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench_api \\
        .venv/bin/python bench/bench_api_batch.py

The same data as bench_ingest.py (same seed: M customers, N orders of 1-4 lines), each
order carrying its customer block (shop id, email, names), sent through Django's full
request stack (test client: middleware, API key, rate limit, idempotency, JSON parsing,
pydantic validation, the batch services, the JSON answer) with a real API key whose rate
limit is raised for the run. Three passes:

1. first:  every call with its own Idempotency-Key; every order must come back "created";
2. replay: the very same calls with the same keys; every answer must be the stored one
   (`Idempotent-Replayed: true`) and nothing may be written;
3. again:  the same bodies under new keys; every order must come back "unchanged" and
   nothing may be written.

With --points a loyalty programme runs (every customer a member, welcome points; begun
before the generated history), so each new order also makes its member and earns points;
afterwards every order must have earned and every balance must equal its ledger.

Orders/s counts the time inside the client calls (the request bodies are built before).
Each pass also prints, per call, the wall time, this process's CPU time and, when
PostgreSQL runs on this machine, its backend's CPU time: on a shared machine the wall
time says little, the split shows what a change did to Python and to the database.
With DATABASE_URL unset a new SQLite file in a temporary directory is used and removed
afterwards (--keep keeps it); on PostgreSQL the script exits non-zero when the first pass
stays under 2,000 orders/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
TARGET_ORDERS_PER_SECOND = 2000  # the issue: batch API ingestion on PostgreSQL, two cores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=1_000, help="Orders per call (max 1,000).")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary SQLite file.")
    parser.add_argument(
        "--points",
        action="store_true",
        help="Run a loyalty programme (every customer a member, welcome points): each order "
        "also creates its member on first sight and earns points, as in production.",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-api-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ["HUEY_IMMEDIATE"] = "0"
    sys.path.insert(0, str(ROOT))
    try:
        return run(args)
    finally:
        if args.keep:
            print(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _moment(value) -> str | None:
    return None if value is None else value.isoformat()


def request_bodies(args, shop_code: str, catalogue) -> list[bytes]:
    """bench_ingest's customers and orders as batch API bodies, one per call."""
    import bench_ingest

    customers = bench_ingest.customer_inputs(args, None)
    bodies = []
    # The customer index stands in for the id: each order carries that customer's block.
    for batch in bench_ingest.order_batches(args, None, list(range(args.customers)), catalogue):
        orders = []
        for data in batch:
            who = customers[data.customer_id]
            orders.append(
                {
                    "shop": shop_code,
                    "external_id": data.external_id,
                    "number": data.number,
                    "placed_at": _moment(data.placed_at),
                    "paid_at": _moment(data.paid_at),
                    "source_updated_at": _moment(data.source_updated_at),
                    "shipping_cents": data.shipping_cents,
                    "total_cents": data.total_cents,
                    "lines": [
                        {
                            "external_id": line.external_id,
                            "sku": line.sku,
                            "title": line.title,
                            "quantity": line.quantity,
                            "unit_price_cents": line.unit_price_cents,
                            "tax_rate_bp": line.tax_rate_bp,
                        }
                        for line in data.lines
                    ],
                    "customer": {
                        "external_id": who.external_id,
                        "email": who.email,
                        "first_name": who.first_name,
                        "last_name": who.last_name,
                        "phone": who.phone,
                    },
                }
            )
        bodies.append(json.dumps({"orders": orders}).encode())
    return bodies


def start_points_programme() -> None:
    """A programme in which every customer is a member, begun before the generated history."""
    from datetime import UTC, datetime

    from treu.loyalty import services
    from treu.loyalty.models import ProgramSettings

    services.update_program_settings(membership="all", welcome_points=50)
    ProgramSettings.objects.update(created_at=datetime(2023, 1, 1, tzinfo=UTC))


def points_check() -> tuple[int, int, int]:
    """Orders that earned, members, and members whose figures differ from their ledger."""
    from django.db.models import F, Q, Sum

    from treu.loyalty.models import Member, PointsEntry

    earned = (
        PointsEntry.objects.filter(kind="earn", order__isnull=False)
        .values("order_id")
        .distinct()
        .count()
    )
    mismatched = (
        Member.objects.annotate(
            ledger=Sum("entries__points", filter=Q(entries__status="available"), default=0),
            pending=Sum("entries__points", filter=Q(entries__status="pending"), default=0),
        )
        .exclude(points_balance=F("ledger"), pending_points=F("pending"))
        .count()
    )
    return earned, Member.objects.count(), mismatched


class Clock:
    """Seconds inside the calls: wall time, this process's CPU and, when PostgreSQL runs on
    this machine, its backend's CPU (/proc/<pid>/schedstat), so the split between Python and
    the database is visible also when other work shares the machine."""

    def __init__(self) -> None:
        self.wall = self.cpu = self.db = 0.0
        self._schedstat = None

    def watch_backend(self, connection) -> None:
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            path = Path(f"/proc/{cursor.fetchone()[0]}/schedstat")
        if path.exists():  # the server is local (and we may read its process)
            self._schedstat = path

    def _backend(self) -> float:
        if self._schedstat is None:
            return 0.0
        try:
            return int(self._schedstat.read_text().split()[0]) / 1e9
        except OSError:  # the connection was replaced: no figure rather than a wrong one
            self._schedstat = None
            return 0.0

    def __enter__(self):
        self._started = (time.monotonic(), time.process_time(), self._backend())
        return self

    def __exit__(self, *exc) -> None:
        wall, cpu, db = self._started
        self.wall += time.monotonic() - wall
        self.cpu += time.process_time() - cpu
        self.db += self._backend() - db

    def split(self, calls: int) -> str:
        """Per call: wall, app CPU and (if measured) database CPU in ms."""
        ms = 1000 / calls
        text = f"per call {self.wall * ms:,.0f} ms wall, app CPU {self.cpu * ms:,.0f} ms"
        if self._schedstat is not None:
            text += f", database CPU {self.db * ms:,.0f} ms"
        return text


def send(
    client, secret: str, bodies: list[bytes], *, key_prefix: str, expect: str, clock: Clock
) -> float:
    """POST every body; check each answer; return the seconds spent inside the calls."""
    seconds = clock.wall
    for n, body in enumerate(bodies):
        with clock:
            response = client.post(
                "/api/v1/orders/batch",
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
                HTTP_IDEMPOTENCY_KEY=f"{key_prefix}-{n}",
            )
        assert response.status_code == 200, (response.status_code, response.content[:500])
        if expect == "replayed":
            assert response.headers.get("Idempotent-Replayed") == "true", response.headers
            continue
        statuses = {item["status"] for item in response.json()["results"]}
        assert statuses == {expect}, (statuses, response.content[:500])
    return clock.wall - seconds


def run(args) -> int:
    import django

    django.setup()
    import bench_ingest
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from treu.api.services import create_key
    from treu.commerce.models import Shop, ShopKind
    from treu.commerce.services import upsert_product

    setup_test_environment()  # the test client's host, no real mail
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.monotonic() - started
    if bench_ingest.counts()["orders"]:
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
    secret = create_key(
        name="Bench", scopes=["read", "write"], rate_limit_per_minute=100_000
    ).secret
    bodies = request_bodies(args, shop.code, catalogue)
    megabytes = sum(len(b) for b in bodies) / 2**20

    if args.points:
        start_points_programme()
    client = Client()
    clocks = [Clock(), Clock(), Clock()]
    for clock in clocks:
        clock.watch_backend(connection)
    tag = random.Random().randrange(10**9)  # fresh keys, should the database be reused
    first = send(
        client, secret, bodies, key_prefix=f"first-{tag}", expect="created", clock=clocks[0]
    )
    after_first = bench_ingest.counts()
    replay = send(
        client, secret, bodies, key_prefix=f"first-{tag}", expect="replayed", clock=clocks[1]
    )
    after_replay = bench_ingest.counts()
    again = send(
        client, secret, bodies, key_prefix=f"again-{tag}", expect="unchanged", clock=clocks[2]
    )
    after_again = bench_ingest.counts()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    orders = args.orders
    print(f"database      {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"data          {after_first['customers']:,} customers, {after_first['orders']:,} "
          f"orders, {after_first['lines']:,} lines, {after_first['events']:,} events; "
          f"{len(bodies)} calls of {args.batch:,} orders ({megabytes:.1f} MiB JSON)")  # fmt: skip
    print(f"migrate       {migrate_seconds:.1f} s (not counted)")
    calls = len(bodies)
    print(f"first         {orders / first:,.0f} orders/s ({first:.1f} s), customers included")
    print(f"              {clocks[0].split(calls)}")
    print(f"replay        {orders / replay:,.0f} orders/s ({replay:.1f} s), same Idempotency-Keys")
    print(f"              {clocks[1].split(calls)}")
    print(f"again         {orders / again:,.0f} orders/s ({again:.1f} s), new keys: all unchanged")
    print(f"              {clocks[2].split(calls)}")
    print(f"load average  {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min) "
          f"on {os.cpu_count()} cores")  # fmt: skip
    idempotent = after_first == after_replay == after_again
    print(f"idempotent    {'yes: replay and second pass wrote nothing' if idempotent else 'NO'} "
          f"({after_again})")  # fmt: skip
    print(f"peak memory   {peak_mib:,.0f} MiB (maxrss, all request bodies held)")
    ok = idempotent
    if args.points:
        earned, members, mismatched = points_check()
        print(f"points        {earned:,} orders earned, {members:,} members; members whose "
              f"balance differs from their ledger: {mismatched}")  # fmt: skip
        ok = ok and earned == orders and mismatched == 0
    if connection.vendor == "postgresql":
        met = orders / first >= TARGET_ORDERS_PER_SECOND
        print(f"target        {TARGET_ORDERS_PER_SECOND:,} orders/s: {'met' if met else 'MISSED'}")
        ok = ok and met
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
