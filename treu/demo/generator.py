"""Builds the demo shop: a German coffee roaster with years of believable customer history.

The history follows a buy-till-you-die pattern: every customer has a latent
type (one-time buyer, occasional, regular, Christmas gift buyer), buys at that
type's pace and, after each purchase, may silently drop out for good.

Speed matters (the same generator feeds the benchmarks), so rows are written
with bulk_create per chunk of customers, never through the per-order services (the
customers and their purchases are planned by `simulation.py`).
The services' arithmetic is mirrored here instead, and the database's CHECK
constraints still refuse any total that does not reconcile. Memory stays flat
however many customers are asked for: one chunk is built, written and dropped
before the next.

Deterministic: one random.Random(seed) and one seeded Faker drive everything;
the only outside input is `until`, the day the history ends (exclusive).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from treu.commerce.events import ORDER_CANCELLED, ORDER_INGESTED, ORDER_REFUNDED
from treu.commerce.models import Order, OrderLine, OrderStatus, Return, ReturnLine
from treu.core.events import record_history
from treu.core.models import DomainEvent, NumberSequence
from treu.core.sequences import reserve_numbers
from treu.customers.events import CUSTOMER_CREATED, NOTE_ADDED
from treu.customers.models import Address, Customer, ExternalId, Note
from treu.customers.services import CUSTOMER_NUMBER_START
from treu.demo import catalogue as cat
from treu.demo.catalogue import Catalogue, ensure_catalogue
from treu.demo.logins import ensure_demo_logins
from treu.demo.simulation import CustomerPlan, Simulator, Timeline, sorted_uniforms

CHUNK_SIZE = 2000  # customers built, written and dropped at a time


class DemoError(Exception):
    """The demo cannot be built or reset as asked (with a message to show as is)."""


@dataclass(frozen=True)
class DemoOptions:
    customers: int = 2000
    seed: int = 42
    years: int = 3
    until: date | None = None  # exclusive end of the history; default today


@dataclass
class BuildResult:
    customers: int = 0
    orders: int = 0
    order_lines: int = 0
    returns: int = 0
    notes: int = 0
    events: int = 0
    seconds: float = 0.0


@contextmanager
def timestamps_as_given(*models) -> Iterator[None]:
    """Let bulk_create keep created_at/updated_at as set (history happened in the past).

    auto_now(_add) is switched off on these models' own field objects for the
    duration; meant for this single-threaded command, not for a running server.
    """
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


# --- steps: later apps (tickets, surveys, subscriptions) add their own -------------------


@dataclass
class ChunkContext:
    """What a step sees of one chunk, after the customers and orders were written."""

    options: DemoOptions
    timeline: Timeline
    catalogue: Catalogue
    staff: dict[str, object]
    rng: random.Random  # the step's own stream, so steps never shift each other's data
    customers: list[Customer]
    orders: list[Order]
    returns: list[Return]


@dataclass(frozen=True)
class DemoStep:
    name: str
    chunk: Callable[[ChunkContext], None] | None = None
    reset: Callable[[], None] | None = None  # delete the step's rows before customers go
    finish: Callable[[], None] | None = None  # after every chunk is written (e.g. aggregates)


_steps: dict[str, DemoStep] = {}


def register_step(step: DemoStep) -> None:
    """An app adds its demo data (e.g. tickets for some returns); call from AppConfig.ready()."""
    _steps[step.name] = step


def steps() -> list[DemoStep]:
    return [_steps[name] for name in sorted(_steps)]


# --- writing -------------------------------------------------------------------------------


def _write_chunk(plans: list[CustomerPlan]) -> tuple[list[Order], list[Return], dict[str, int]]:
    customers = [pl.customer for pl in plans]
    Customer.objects.bulk_create(customers)
    Address.objects.bulk_create([a for pl in plans for a in pl.addresses])
    ExternalId.objects.bulk_create([e for pl in plans for e in pl.external_ids])
    order_plans = [op for pl in plans for op in pl.orders]
    orders = [op.order for op in order_plans]
    Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create([line for op in order_plans for line in op.lines])
    with_returns = [op for op in order_plans if op.ret is not None]
    returns = [op.ret for op in with_returns]
    Return.objects.bulk_create(returns)
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                return_record=op.ret,
                order_line=line,
                quantity=qty,
                amount_cents=amount,
            )
            for op in with_returns
            for line, qty, amount in op.return_lines
        ]
    )
    notes = [n for pl in plans for n, _ in pl.notes]
    Note.objects.bulk_create(notes)
    written = record_history(_events(plans))
    counts = {
        "customers": len(customers),
        "orders": len(orders),
        "order_lines": sum(len(op.lines) for op in order_plans),
        "returns": len(returns),
        "notes": len(notes),
        "events": written,
    }
    return orders, returns, counts


def _event(kind: str, customer: Customer, at: datetime, source: str, payload: dict):
    return DomainEvent(
        kind=kind,
        customer_id=customer.pk,
        occurred_at=at,
        recorded_at=at,
        source=source,
        payload=payload,
    )


def _events(plans: list[CustomerPlan]) -> Iterator[DomainEvent]:
    """The timeline, with the payloads commerce and customers services would have written."""
    for pl in plans:
        c = pl.customer
        yield _event(
            CUSTOMER_CREATED, c, c.created_at, "demo", {"source_channel": c.source_channel}
        )
        for op in pl.orders:
            o = op.order
            base = {"order_id": o.pk, "number": o.number, "shop": o.shop.name}
            yield _event(
                ORDER_INGESTED,
                c,
                o.placed_at,
                o.shop.kind,
                {
                    **base,
                    "status": OrderStatus.PAID,
                    "total_cents": o.total_cents,
                    "item_count": op.item_count,
                },
            )
            if o.status == OrderStatus.CANCELLED:
                yield _event(
                    ORDER_CANCELLED,
                    c,
                    o.cancelled_at,
                    o.shop.kind,
                    {**base, "status": o.status, "total_cents": o.total_cents, "item_count": 0},
                )
            if op.ret is not None:
                yield _event(
                    ORDER_REFUNDED,
                    c,
                    op.ret.refunded_at,
                    o.shop.kind,
                    {
                        "order_id": o.pk,
                        "number": o.number,
                        "return_id": op.ret.pk,
                        "amount_cents": op.ret.amount_cents,
                        "reason": op.ret.reason,
                        "lines": [
                            {"order_line_id": line.pk, "quantity": qty}
                            for line, qty, _ in op.return_lines
                        ],
                    },
                )
        for note, author in pl.notes:
            yield _event(
                NOTE_ADDED,
                c,
                note.created_at,
                "backoffice",
                {
                    "note_id": note.pk,
                    "author": author.get_full_name() or author.get_username(),
                    "text": note.text[:500],
                },
            )


_TIMESTAMPED = (Customer, Address, ExternalId, Note, Order, Return, DomainEvent)


def build_demo(
    options: DemoOptions, *, progress: Callable[[int], None] | None = None
) -> BuildResult:
    """Build the whole demo shop into the database (which must hold no customers yet)."""
    started = time.monotonic()
    until = options.until or timezone.localdate()
    if options.customers < 1:
        raise DemoError("--customers must be at least 1.")
    if not 1 <= options.years <= 20:
        raise DemoError("--years must be between 1 and 20.")
    if until > timezone.localdate():
        raise DemoError("--until must not lie in the future.")
    if Customer.objects.exists():
        raise DemoError(
            "The database already holds customers. Use --reset to replace the demo data "
            "or --if-empty to keep it."
        )
    timeline = Timeline(until=until, years=options.years)
    result = BuildResult()
    with timestamps_as_given(*_TIMESTAMPED, *_catalogue_models()):
        staff = ensure_demo_logins()
        catalogue = ensure_catalogue(since=timeline.start_at)
        first_number = reserve_numbers("customer", options.customers, start=CUSTOMER_NUMBER_START)
        sim = Simulator(options, timeline, catalogue, staff)
        moments = sorted_uniforms(options.customers, sim.rng)
        done = 0
        for chunk_no, chunk_start in enumerate(range(0, options.customers, CHUNK_SIZE)):
            size = min(CHUNK_SIZE, options.customers - chunk_start)
            plans = [
                sim.customer(first_number + chunk_start + i, timeline.acquisition(next(moments)))
                for i in range(size)
            ]
            with transaction.atomic():
                orders, returns, counts = _write_chunk(plans)
                context = ChunkContext(
                    options=options,
                    timeline=timeline,
                    catalogue=catalogue,
                    staff=staff,
                    rng=random.Random(),
                    customers=[pl.customer for pl in plans],
                    orders=orders,
                    returns=returns,
                )
                for step in steps():
                    if step.chunk is not None:
                        context.rng = random.Random(f"{options.seed}:{step.name}:{chunk_no}")
                        step.chunk(context)
            for name, value in counts.items():
                setattr(result, name, getattr(result, name) + value)
            done += size
            if progress is not None:
                progress(done)
    for step in steps():
        if step.finish is not None:
            step.finish()
    result.seconds = time.monotonic() - started
    return result


def _catalogue_models():
    from treu.commerce.models import Product, Shop

    return (Product, Shop)


def _delete_rows(model, *, not_null: str | None = None) -> None:
    """DELETE every row of a model's table (or those whose column is set), without loading them."""
    quote = connection.ops.quote_name
    sql = f"DELETE FROM {quote(model._meta.db_table)}"  # noqa: S608 - names from our own models
    if not_null:
        sql += f" WHERE {quote(not_null)} IS NOT NULL"
    with connection.cursor() as cursor:
        cursor.execute(sql)


def reset_demo() -> None:
    """Delete customers and everything hanging off them, so the demo can be rebuilt.

    Refuses when orders from shops other than the demo's exist: that is a real
    shop's data, and no flag should wipe it by accident.
    """
    if Order.objects.exclude(shop__code__in=cat.SHOP_CODES).exists():
        raise DemoError(
            "This database holds orders from shops that are not the demo's; "
            "refusing to delete them. Use a separate database for the demo."
        )
    with transaction.atomic():
        for step in reversed(steps()):
            if step.reset is not None:
                step.reset()
        # Plain DELETEs: a million customers must not be loaded just to be removed.
        for model in (ReturnLine, Return, OrderLine, Order, Customer.tags.through):
            _delete_rows(model)
        for rel in Customer._meta.related_objects:
            if not rel.many_to_many:
                _delete_rows(rel.related_model, not_null=rel.field.column)
        _delete_rows(Customer)
        NumberSequence.objects.filter(name="customer").delete()
