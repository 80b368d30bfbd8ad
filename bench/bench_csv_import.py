"""CSV import benchmark: N order lines in treu's format, imported through `import_csv`.

Generates the file into a temporary folder (written row by row, never held in memory),
imports it into a FRESH database through the same code path as
`python -m treu import_csv FILE --shop online`, and reports time, lines per second and
peak memory (maxrss).

    .venv/bin/python bench/bench_csv_import.py                  # 1,000,000 lines, SQLite
    .venv/bin/python bench/bench_csv_import.py --lines 100000 --again
    # PostgreSQL: that database is FLUSHED, use a throwaway one
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench \
        .venv/bin/python bench/bench_csv_import.py

Target (issue "Data in and out"): 1,000,000 lines in under 2 minutes, memory flat.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stdout
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 120
HEADER = [
    "order_id", "order_date", "customer_email", "customer_external_id", "first_name",
    "last_name", "sku", "item", "quantity", "unit_price", "line_discount", "vat_rate",
    "shipping", "order_discount", "total", "status",
]  # fmt: skip
ITEMS = [
    ("ESP-MIL-500", "Espresso Milano 500 g", 1490, 700),
    ("FIL-HAUS-250", "Filterkaffee Hausmischung 250 g", 850, 700),
    ("ROE-ETH-1000", "Röstkaffee Äthiopien 1 kg", 3290, 700),
    ("TASSE-01", "Keramiktasse Röstkontor", 1200, 1900),
    ("ENTK-01", "Entkalker für Siebträger", 1000, 1900),
    ("MK-01", "Milchkännchen", 650, 1900),
]
FIRST = ["Anna", "Ben", "Jürgen", "Lena", "Sophie", "Paul", "Marie", "Tom", "Claudia", "Jens"]
LAST = ["Müller", "Schäfer", "Weiß", "Özdemir", "Krüger", "Becker", "Schmidt", "Wagner"]


def euro(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"  # German decimals, as Excel writes them


def generate(path: Path, lines: int, *, seed: int) -> int:
    """Write `lines` order lines (about 2.8 per order); returns the number of orders."""
    rng = random.Random(seed)
    customers = max(lines // 10, 1)
    start = datetime(2022, 1, 1, 8, 0)  # noqa: DTZ001 - written as local time, as shops do
    orders = written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(HEADER)
        while written < lines:
            orders += 1
            n = min(rng.choices((1, 2, 3, 4, 5), (20, 25, 25, 15, 15))[0], lines - written)
            picked = [ITEMS[rng.randrange(len(ITEMS))] for _ in range(n)]
            quantities = [rng.randint(1, 3) for _ in picked]
            subtotal = sum(q * item[2] for q, item in zip(quantities, picked, strict=True))
            shipping = 0 if subtotal >= 4000 else 490
            c = rng.randrange(customers)
            placed = start + timedelta(minutes=orders * 2)
            for i, (item, q) in enumerate(zip(picked, quantities, strict=True)):
                head = i == 0
                writer.writerow([
                    f"B-{orders}",
                    placed.strftime("%d.%m.%Y %H:%M") if head else "",
                    f"kunde{c}@example.de" if head else "",
                    f"K{c}" if head else "",
                    FIRST[c % len(FIRST)] if head else "",
                    LAST[c % len(LAST)] if head else "",
                    item[0], item[1], q, euro(item[2]), "", item[3] // 100,
                    euro(shipping) if head else "", "0" if head else "",
                    euro(subtotal + shipping) if head else "", "bezahlt" if head else "",
                ])  # fmt: skip
            written += n
    return orders


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dry-run", action="store_true", help="Measure a dry run instead.")
    parser.add_argument("--again", action="store_true", help="Also time a second, idempotent run.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    parser.add_argument(
        "--parse-only",
        action="store_true",
        help="Only detect and read the file into order records (no database writes).",
    )
    parser.add_argument(
        "--points",
        action="store_true",
        help="Run a loyalty programme (begun today, every customer a member): the file's "
        "orders are history and must earn nothing, at little cost.",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-csv-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    sys.path.insert(0, str(ROOT))
    try:
        return run(args, workdir)
    finally:
        if args.keep:
            print(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args, workdir: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from treu.commerce.models import Shop, ShopKind
    from treu.imports.models import ImportJob

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    Shop.objects.get_or_create(
        code="online", defaults={"name": "Onlineshop", "kind": ShopKind.SHOPIFY}
    )

    if args.points:
        from treu.loyalty.services import update_program_settings

        update_program_settings(membership="all", welcome_points=50)
    path = workdir / "orders.csv"
    started = time.monotonic()
    orders = generate(path, args.lines, seed=args.seed)
    print(
        f"generated {args.lines:,} lines / {orders:,} orders "
        f"({path.stat().st_size / 2**20:.0f} MiB) in {time.monotonic() - started:.1f} s"
    )
    baseline = peak_mib()
    if args.parse_only:
        return parse_only(path, args.lines, baseline)
    command = [str(path), "--shop", "online"] + (["--dry-run"] if args.dry_run else [])
    runs = [("first import", command)] + ([("second import", command)] if args.again else [])
    missed = False
    for label, argv in runs:
        started = time.monotonic()
        with redirect_stdout(io.StringIO()):
            call_command("import_csv", *argv)
        seconds = time.monotonic() - started
        job = ImportJob.objects.latest("pk")
        print(
            f"\n{label} on {connection.vendor}: {seconds:.1f} s, "
            f"{args.lines / seconds:,.0f} lines/s, {orders / seconds:,.0f} orders/s; "
            f"orders created/updated/unchanged/refused {job.orders_created:,}/"
            f"{job.orders_updated:,}/{job.orders_unchanged:,}/{job.orders_rejected:,}; "
            f"customers created {job.customers_created:,}; "
            f"peak memory {peak_mib():.0f} MiB (before the import {baseline:.0f} MiB)"
        )
        missed |= label == "first import" and args.lines >= 1_000_000 and seconds > TARGET_SECONDS
    if args.points:
        from treu.loyalty.models import Member, PointsEntry

        earned = PointsEntry.objects.count() + Member.objects.count()
        print(f"loyalty: {earned} members and ledger rows (history must earn nothing)")
        if earned:
            print("FAILED: imported history earned points", file=sys.stderr)
            return 1
    if missed:
        print(f"TARGET MISSED: over {TARGET_SECONDS} s for 1,000,000 lines", file=sys.stderr)
    return 1 if missed else 0


def parse_only(path: Path, lines: int, baseline: float) -> int:
    """The reading half of the import alone: what the file costs before any service runs."""
    from treu.commerce.models import Shop
    from treu.imports import formats, reading

    started = time.monotonic()
    layout = reading.inspect(path)
    fmt = formats.choose(layout.header)
    rows = reading.stream_rows(path, layout, [])
    shop = Shop.objects.get(code="online")
    orders = sum(1 for _ in fmt.records(rows, formats.Columns(layout.header), shop=shop))
    seconds = time.monotonic() - started
    print(
        f"parse only: {seconds:.1f} s, {lines / seconds:,.0f} lines/s, {orders:,} orders; "
        f"peak memory {peak_mib():.0f} MiB (before {baseline:.0f} MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
