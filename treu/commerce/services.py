"""Writes to orders, returns and the catalogue. Every one validates fully before it writes."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.commerce.events import ORDER_CANCELLED, ORDER_INGESTED, ORDER_REFUNDED, ORDER_UPDATED
from treu.commerce.models import (
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Return,
    ReturnLine,
    ReturnReason,
    Shop,
)
from treu.core import events
from treu.core.bulk import from_rows, insert_rows, update_rows
from treu.core.money import CURRENCY, tax_from_gross
from treu.customers import selectors as customer_selectors
from treu.customers import services as customer_services

log = logging.getLogger(__name__)

# Orders placed this far in the future are rejected: shop clocks drift, but not by days.
CLOCK_SKEW = timedelta(minutes=10)


class OrderRejected(ValidationError):
    """An order (or return) that does not add up; messages are German, per field."""


class ProductRejected(ValidationError):
    """A catalogue entry that is not valid; messages per field."""


@dataclass(frozen=True)
class LineInput:
    title: str
    quantity: int
    unit_price_cents: int
    sku: str = ""
    discount_cents: int = 0
    tax_rate_bp: int = 1900
    tax_cents: int | None = None  # computed from the rate when the shop does not say
    external_id: str = ""  # the line's id in the shop, which its refunds refer to

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents - self.discount_cents


@dataclass(frozen=True)
class OrderInput:
    shop: Shop
    external_id: str
    placed_at: datetime
    lines: list[LineInput]
    total_cents: int
    customer_id: int | None = None
    number: str = ""
    status: str = OrderStatus.PAID
    currency: str = CURRENCY
    shipping_cents: int = 0
    discount_cents: int = 0
    shipping_tax_rate_bp: int = 1900
    tax_cents: int | None = None
    paid_at: datetime | None = None
    fulfilled_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    source_updated_at: datetime | None = None
    source: str = ""


@dataclass
class IngestResult:
    order: Order
    created: bool
    changed: bool
    stale: bool = False  # an older version than the one held: ignored
    errors: dict[str, list[str]] = field(default_factory=dict)


def validate_order(data: OrderInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    if not data.external_id.strip():
        errors["external_id"].append(_("The order has no id from the shop."))
    if data.currency != CURRENCY:
        errors["currency"].append(
            _("Currency %(currency)s is not supported; treu works in EUR.")
            % {"currency": data.currency}
        )
    if data.status not in OrderStatus.values:
        errors["status"].append(_("Unknown order status %(status)r.") % {"status": data.status})
    if timezone.is_naive(data.placed_at):
        errors["placed_at"].append(_("The order time has no time zone."))
    elif data.placed_at > timezone.now() + CLOCK_SKEW:
        errors["placed_at"].append(_("The order is dated in the future."))
    if not data.lines:
        errors["lines"].append(_("The order has no lines."))
    for i, line in enumerate(data.lines, start=1):
        where = f"lines.{i}"
        if not line.title.strip():
            errors[where].append(_("Line %(n)d has no item name.") % {"n": i})
        if line.quantity <= 0:
            errors[where].append(_("Line %(n)d: the quantity must be at least 1.") % {"n": i})
        if line.unit_price_cents < 0 or line.discount_cents < 0:
            errors[where].append(_("Line %(n)d: amounts must not be negative.") % {"n": i})
        elif line.total_cents < 0:
            errors[where].append(_("Line %(n)d: the discount exceeds the line amount.") % {"n": i})
        if not 0 <= line.tax_rate_bp <= 10000:
            errors[where].append(_("Line %(n)d: the VAT rate is out of range.") % {"n": i})
        if line.tax_cents is not None and not 0 <= line.tax_cents <= max(line.total_cents, 0):
            errors[where].append(_("Line %(n)d: the VAT exceeds the line amount.") % {"n": i})
    for name in ("shipping_cents", "discount_cents", "total_cents"):
        if getattr(data, name) < 0:
            errors[name].append(_("Amounts must not be negative."))
    subtotal = sum(line.total_cents for line in data.lines)
    expected = subtotal + data.shipping_cents - data.discount_cents
    if not errors and expected != data.total_cents:
        errors["total_cents"].append(
            _(
                "The totals do not add up: lines %(subtotal)s + shipping %(shipping)s − discount "
                "%(discount)s = %(expected)s cents, but the order says %(total)s cents."
            )
            % {
                "subtotal": subtotal,
                "shipping": data.shipping_cents,
                "discount": data.discount_cents,
                "expected": expected,
                "total": data.total_cents,
            }
        )
    if data.tax_cents is not None and not 0 <= data.tax_cents <= max(data.total_cents, 0):
        errors["tax_cents"].append(_("The VAT exceeds the order total."))
    return dict(errors)


def _line_tax(line: LineInput) -> int:
    return (
        line.tax_cents
        if line.tax_cents is not None
        else tax_from_gross(line.total_cents, line.tax_rate_bp)
    )


def _order_tax(data: OrderInput) -> int:
    if data.tax_cents is not None:
        return data.tax_cents
    # Without the shop's figure: line VAT, shipping at its rate, the order discount
    # reducing VAT in proportion to the goods it applies to.
    line_tax = sum(_line_tax(line) for line in data.lines)
    subtotal = sum(line.total_cents for line in data.lines)
    if subtotal and data.discount_cents:
        line_tax -= round(line_tax * data.discount_cents / subtotal)
    return max(line_tax, 0) + tax_from_gross(data.shipping_cents, data.shipping_tax_rate_bp)


_HEADER_FIELDS = (
    "number", "customer_id", "status", "currency", "subtotal_cents", "shipping_cents",
    "discount_cents", "total_cents", "tax_cents", "net_cents", "placed_at", "paid_at",
    "fulfilled_at", "delivered_at", "cancelled_at", "source_updated_at",
)  # fmt: skip


# The columns of a new order, in the order `_OrderBatch._create` builds its rows.
_ORDER_COLUMNS = ("created_at", "updated_at", "shop_id", "external_id", "refunded_cents",
                  *_HEADER_FIELDS)  # fmt: skip
_LINE_COLUMNS = (
    "order_id", "product_id", "external_id", "sku", "title", "quantity", "unit_price_cents",
    "discount_cents", "total_cents", "tax_rate_bp", "tax_cents",
)  # fmt: skip


_header_values = itemgetter(*_HEADER_FIELDS)


def _header(data: OrderInput) -> dict:
    tax = min(_order_tax(data), data.total_cents)
    return {
        "number": data.number or data.external_id,
        "customer_id": data.customer_id,
        "status": data.status,
        "currency": data.currency,
        "subtotal_cents": sum(line.total_cents for line in data.lines),
        "shipping_cents": data.shipping_cents,
        "discount_cents": data.discount_cents,
        "total_cents": data.total_cents,
        "tax_cents": tax,
        "net_cents": data.total_cents - tax,
        "placed_at": data.placed_at,
        "paid_at": data.paid_at,
        "fulfilled_at": data.fulfilled_at,
        "delivered_at": data.delivered_at,
        "cancelled_at": data.cancelled_at,
        "source_updated_at": data.source_updated_at,
    }


def _build_lines(order: Order, lines: list[LineInput]) -> list[OrderLine]:
    skus = {line.sku for line in lines if line.sku}
    products = dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk")) if skus else {}
    return [
        OrderLine(
            order=order,
            product_id=products.get(line.sku),
            external_id=line.external_id,
            sku=line.sku,
            title=line.title.strip()[:200],
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            discount_cents=line.discount_cents,
            total_cents=line.total_cents,
            tax_rate_bp=line.tax_rate_bp,
            tax_cents=_line_tax(line),
        )
        for line in lines
    ]


def _line_key(line: OrderLine | LineInput) -> tuple:
    """What makes two versions of an order line the same line."""
    return (
        line.external_id,
        line.sku,
        line.title.strip()[:200],
        line.quantity,
        line.unit_price_cents,
        line.discount_cents,
    )


def _payload(order: Order, item_count: int) -> dict:
    return {
        "order_id": order.pk,
        "number": order.number,
        "shop": order.shop.name,
        "status": order.status,
        "total_cents": order.total_cents,
        "item_count": item_count,
    }


def _unknown_customer_message() -> dict[str, list[str]]:
    return {"customer_id": [_("The customer of this order does not exist.")]}


def _returned_goods_message() -> dict[str, list[str]]:
    return {
        "lines": [_("Goods of this order were already returned; its lines can no longer change.")]
    }


def _customer_or_refuse(customer_id: int | None):
    if customer_id is None:
        return None
    customer = customer_selectors.customer_by_id(customer_id)
    if customer is None:
        raise OrderRejected(_unknown_customer_message())
    return customer


@transaction.atomic
def ingest_order(data: OrderInput) -> IngestResult:
    """Create or update an order from a shop, exactly once per (shop, external id).

    Replaying the same order changes nothing. A changed order replaces its lines
    unless goods were already returned, in which case only status and dates move.
    Raises OrderRejected, writing nothing, when the order does not add up.
    """
    errors = validate_order(data)
    if errors:
        raise OrderRejected(errors)
    header = _header(data)
    order = (
        Order.objects.select_for_update()
        .filter(shop=data.shop, external_id=data.external_id)
        .first()
    )
    if order is None:
        customer = _customer_or_refuse(data.customer_id)
        order = Order.objects.create(shop=data.shop, external_id=data.external_id, **header)
        built = _build_lines(order, data.lines)
        OrderLine.objects.bulk_create(built)
        item_count = sum(line.quantity for line in built)
        events.publish(
            ORDER_INGESTED,
            customer=customer,
            payload=_payload(order, item_count),
            source=data.source,
            occurred_at=order.placed_at,
        )
        refresh_customer_summary(order.customer_id)
        return IngestResult(order=order, created=True, changed=True)

    if (
        order.source_updated_at is not None
        and data.source_updated_at is not None
        and data.source_updated_at < order.source_updated_at
    ):
        return IngestResult(order=order, created=False, changed=False, stale=True)
    previous_customer_id = order.customer_id
    changed_header = {k: v for k, v in header.items() if getattr(order, k) != v}
    current_lines = [_line_key(line) for line in order.lines.all()]
    new_lines = [_line_key(line) for line in data.lines]
    lines_changed = current_lines != new_lines
    if not changed_header and not lines_changed:
        return IngestResult(order=order, created=False, changed=False)
    if order.returns.exists() and (lines_changed or "total_cents" in changed_header):
        raise OrderRejected(_returned_goods_message())
    customer = _customer_or_refuse(data.customer_id)
    for name, value in changed_header.items():
        setattr(order, name, value)
    order.save()
    if lines_changed:
        order.lines.all().delete()
        OrderLine.objects.bulk_create(_build_lines(order, data.lines))
    item_count = sum(line.quantity for line in data.lines)
    kind = (
        ORDER_CANCELLED if changed_header.get("status") == OrderStatus.CANCELLED else ORDER_UPDATED
    )
    events.publish(kind, customer=customer, payload=_payload(order, item_count), source=data.source)
    refresh_customer_summary(order.customer_id)
    if previous_customer_id and previous_customer_id != order.customer_id:
        refresh_customer_summary(previous_customer_id)
    return IngestResult(order=order, created=False, changed=True)


def ingest_orders(batch: list[OrderInput]) -> list[IngestResult | OrderRejected]:
    """Ingest many orders; the answer lists, in input order, each one's result or refusal.

    A refused order (OrderRejected) writes nothing and does not stop the others.
    Same semantics as `ingest_order` for each item in turn, including replays, stale
    versions and the same order twice in one batch (the later one updates the earlier).
    Set-based: one transaction, a fixed number of queries for a batch of any size; new
    orders, lines and events are written from plain tuples by `core.bulk.insert_rows`
    (COPY on PostgreSQL), not from model instances.
    """
    results: list[IngestResult | OrderRejected | None] = [None] * len(batch)
    valid: list[tuple[int, OrderInput]] = []
    for i, data in enumerate(batch):
        errors = validate_order(data)
        if errors:
            results[i] = OrderRejected(errors)
        else:
            valid.append((i, data))
    if valid:
        try:
            with transaction.atomic():
                _OrderBatch(results).run(valid)
        except IntegrityError:
            # A concurrent writer created one of these orders meanwhile: the batch rolled
            # back (with its events); the one-by-one path sees their row and updates it.
            log.warning("Order batch collided with a concurrent write; retrying one by one.")
            return _ingest_orders_one_by_one(batch)
    return results  # type: ignore[return-value]


def _ingest_orders_one_by_one(batch: list[OrderInput]) -> list[IngestResult | OrderRejected]:
    """The reference meaning of a batch: `ingest_order` per item, each in its own transaction."""
    results: list[IngestResult | OrderRejected] = []
    for data in batch:
        try:
            results.append(ingest_order(data))
        except OrderRejected as rejected:
            results.append(rejected)
    return results


def _order_key(data: OrderInput) -> tuple[int, str]:
    return (data.shop.pk, data.external_id)


@dataclass
class _New:
    index: int
    data: OrderInput
    header: dict


@dataclass
class _Change:
    index: int
    data: OrderInput
    order: Order
    header: dict  # only the fields that changed
    lines: bool  # whether the lines changed

    @property
    def touches_goods(self) -> bool:
        return self.lines or "total_cents" in self.header


class _OrderBatch:
    """ingest_order for many orders at once, with the same outcome per item.

    The items are taken in rounds: the first appearance of every order, then the second
    (an update of the first), and so on, so within a round every order is distinct and
    can be read, compared and written in bulk. Customer figures are refreshed once.
    """

    def __init__(self, results: list) -> None:
        self.results = results
        self.events: list[events.NewEvent] = []
        # Customers whose figures an update touched: recomputed from their orders.
        self.affected_customers: set[int] = set()
        # Customers who only got new orders: those are added to their stored figures.
        self.grown_customers: dict[int, list[Order]] = defaultdict(list)
        self.known_customers: set[int] = set()
        self.products: dict[str, int] = {}

    def run(self, valid: list[tuple[int, OrderInput]]) -> None:
        rounds: list[list[tuple[int, OrderInput]]] = []
        seen: Counter[tuple[int, str]] = Counter()
        for i, data in valid:
            n = seen[_order_key(data)]
            seen[_order_key(data)] += 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append((i, data))
        self.known_customers = customer_selectors.existing_customer_ids(
            data.customer_id for _i, data in valid if data.customer_id is not None
        )
        for items in rounds:
            self._round(items)
        events.publish_many(self.events)
        refresh_customer_summaries(self.affected_customers)
        add_to_customer_summaries(
            {
                customer_id: orders
                for customer_id, orders in self.grown_customers.items()
                if customer_id not in self.affected_customers
            }
        )

    def _refuse_unknown_customer(self, i: int, data: OrderInput) -> bool:
        if data.customer_id is None or data.customer_id in self.known_customers:
            return False
        self.results[i] = OrderRejected(_unknown_customer_message())
        return True

    def _round(self, items: list[tuple[int, OrderInput]]) -> None:
        existing = self._existing(items)
        current_lines = self._current_lines(existing.values())
        new: list[_New] = []
        changed: list[_Change] = []
        for i, data in items:
            header = _header(data)
            order = existing.get(_order_key(data))
            if order is None:
                if not self._refuse_unknown_customer(i, data):
                    new.append(_New(i, data, header))
                continue
            if (
                order.source_updated_at is not None
                and data.source_updated_at is not None
                and data.source_updated_at < order.source_updated_at
            ):
                self.results[i] = IngestResult(
                    order=order, created=False, changed=False, stale=True
                )
                continue
            changed_header = {k: v for k, v in header.items() if getattr(order, k) != v}
            lines_changed = current_lines[order.pk] != [_line_key(x) for x in data.lines]
            if not changed_header and not lines_changed:
                self.results[i] = IngestResult(order=order, created=False, changed=False)
                continue
            changed.append(_Change(i, data, order, changed_header, lines_changed))
        changed = self._refuse_changes_to_returned_goods(changed)
        changed = [c for c in changed if not self._refuse_unknown_customer(c.index, c.data)]
        self._resolve_products([n.data for n in new] + [c.data for c in changed if c.lines])
        # Events in input order, as the one-by-one path would write them.
        round_events = sorted([*self._create(new), *self._update(changed)], key=lambda p: p[0])
        self.events += [event for _i, event in round_events]

    def _existing(self, items: list[tuple[int, OrderInput]]) -> dict[tuple[int, str], Order]:
        ids_by_shop: dict[int, list[str]] = defaultdict(list)
        for _i, data in items:
            ids_by_shop[data.shop.pk].append(data.external_id)
        wanted = Q()
        for shop_id, external_ids in ids_by_shop.items():
            wanted |= Q(shop_id=shop_id, external_id__in=external_ids)
        return {
            (order.shop_id, order.external_id): order
            for order in Order.objects.select_for_update().filter(wanted).order_by()
        }

    @staticmethod
    def _current_lines(orders) -> dict[int, list[tuple]]:
        lines: dict[int, list[tuple]] = defaultdict(list)
        order_ids = [order.pk for order in orders]
        if not order_ids:
            return lines
        rows = (
            OrderLine.objects.filter(order_id__in=order_ids)
            .order_by("order_id", "id")
            .values_list(
                "order_id", "external_id", "sku", "title", "quantity", "unit_price_cents",
                "discount_cents",
            )
        )  # fmt: skip
        for order_id, external_id, sku, title, *rest in rows:
            lines[order_id].append((external_id, sku, title.strip()[:200], *rest))
        return lines

    def _refuse_changes_to_returned_goods(self, changed: list[_Change]) -> list[_Change]:
        at_risk = [c.order.pk for c in changed if c.touches_goods]
        if not at_risk:
            return changed
        returned = set(
            Return.objects.filter(order_id__in=at_risk).values_list("order_id", flat=True)
        )
        kept = []
        for c in changed:
            if c.touches_goods and c.order.pk in returned:
                self.results[c.index] = OrderRejected(_returned_goods_message())
            else:
                kept.append(c)
        return kept

    def _resolve_products(self, orders: list[OrderInput]) -> None:
        skus = {line.sku for data in orders for line in data.lines if line.sku} - set(self.products)
        if skus:
            self.products.update(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))

    def _line_rows(self, order_id: int, data: OrderInput) -> list[tuple]:
        products = self.products
        return [
            (
                order_id,
                products.get(line.sku) if line.sku else None,
                line.external_id,
                line.sku,
                line.title.strip()[:200],
                line.quantity,
                line.unit_price_cents,
                line.discount_cents,
                line.total_cents,
                line.tax_rate_bp,
                _line_tax(line),
            )
            for line in data.lines
        ]

    def _create(self, new: list[_New]) -> list[tuple[int, events.NewEvent]]:
        """Insert new orders and their lines from plain tuples (see `insert_rows`)."""
        if not new:
            return []
        now = timezone.now()
        rows = [
            (now, now, n.data.shop.pk, n.data.external_id, 0, *_header_values(n.header))
            for n in new
        ]
        ids = insert_rows(Order, _ORDER_COLUMNS, rows)
        orders = from_rows(Order, _ORDER_COLUMNS, rows, ids)
        lines: list[tuple] = []
        created_events = []
        for n, order in zip(new, orders, strict=True):
            i, data = n.index, n.data
            order._state.fields_cache["shop"] = data.shop
            lines += self._line_rows(order.pk, data)
            item_count = sum(line.quantity for line in data.lines)
            created_events.append(
                (
                    i,
                    events.NewEvent(
                        kind=ORDER_INGESTED,
                        customer_id=order.customer_id,
                        payload=_payload(order, item_count),
                        source=data.source,
                        occurred_at=order.placed_at,
                    ),
                )
            )
            self.results[i] = IngestResult(order=order, created=True, changed=True)
            if order.customer_id is not None and order.status != OrderStatus.CANCELLED:
                self.grown_customers[order.customer_id].append(order)
        insert_rows(OrderLine, _LINE_COLUMNS, lines, return_ids=False)
        return created_events

    def _update(self, changed: list[_Change]) -> list[tuple[int, events.NewEvent]]:
        if not changed:
            return []
        now = timezone.now()
        updated_events = []
        for c in changed:
            i, data, order, changed_header = c.index, c.data, c.order, c.header
            order.shop = data.shop  # the same shop (it is part of the key): no query for its name
            if order.customer_id is not None:
                self.affected_customers.add(order.customer_id)  # the previous owner
            for name, value in changed_header.items():
                setattr(order, name, value)
            order.updated_at = now
            if order.customer_id is not None:
                self.affected_customers.add(order.customer_id)
            kind = (
                ORDER_CANCELLED
                if changed_header.get("status") == OrderStatus.CANCELLED
                else ORDER_UPDATED
            )
            item_count = sum(line.quantity for line in data.lines)
            updated_events.append(
                (
                    i,
                    events.NewEvent(
                        kind=kind,
                        customer_id=order.customer_id,
                        payload=_payload(order, item_count),
                        source=data.source,
                    ),
                )
            )
            self.results[i] = IngestResult(order=order, created=False, changed=True)
        update_rows(Order, [c.order for c in changed], [*_HEADER_FIELDS, "updated_at"])
        relined = [c for c in changed if c.lines]
        if relined:
            OrderLine.objects.filter(order_id__in=[c.order.pk for c in relined]).delete()
            insert_rows(
                OrderLine,
                _LINE_COLUMNS,
                [row for c in relined for row in self._line_rows(c.order.pk, c.data)],
                return_ids=False,
            )
        return updated_events


@transaction.atomic
def cancel_order(order: Order, *, when: datetime | None = None, source: str = "") -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == OrderStatus.CANCELLED:
        return order
    if order.refunded_cents:
        raise OrderRejected(
            _("An order with refunds cannot be cancelled; record a return instead.")
        )
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = when or timezone.now()
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    events.publish(
        ORDER_CANCELLED,
        customer=order.customer,
        payload=_payload(order, 0),
        source=source,
        occurred_at=order.cancelled_at,
    )
    refresh_customer_summary(order.customer_id)
    return order


@dataclass(frozen=True)
class ReturnLineInput:
    order_line_id: int
    quantity: int
    amount_cents: int | None = None  # default: the line's price share for that quantity


@transaction.atomic
def record_return(
    order: Order,
    *,
    lines: list[ReturnLineInput],
    reason: str = ReturnReason.OTHER,
    comment: str = "",
    shipping_refund_cents: int = 0,
    other_refund_cents: int = 0,
    refunded_at: datetime | None = None,
    external_id: str = "",
    source: str = "",
) -> Return:
    """Record goods coming back and the money refunded; exactly once per external id."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if external_id:
        existing = order.returns.filter(external_id=external_id).first()
        if existing is not None:
            return existing
    errors: dict[str, list[str]] = defaultdict(list)
    if order.status == OrderStatus.CANCELLED:
        errors["order"].append(_("The order was cancelled; there is nothing to return."))
    if reason not in ReturnReason.values:
        errors["reason"].append(_("Unknown return reason."))
    if not lines and shipping_refund_cents <= 0 and other_refund_cents <= 0:
        errors["lines"].append(_("Choose at least one item or refund shipping."))
    if shipping_refund_cents < 0:
        errors["shipping_refund_cents"].append(_("Amounts must not be negative."))
    if other_refund_cents < 0:
        errors["other_refund_cents"].append(_("Amounts must not be negative."))
    order_lines = {line.pk: line for line in order.lines.all()}
    already = dict(
        ReturnLine.objects.filter(order_line__order=order)
        .values("order_line")
        .annotate(q=Sum("quantity"))
        .values_list("order_line", "q")
    )
    built: list[ReturnLine] = []
    for i, item in enumerate(lines, start=1):
        line = order_lines.get(item.order_line_id)
        where = f"lines.{i}"
        if line is None:
            errors[where].append(_("Item %(n)d is not part of this order.") % {"n": i})
            continue
        left = line.quantity - already.get(line.pk, 0)
        if item.quantity <= 0:
            errors[where].append(_("Item %(n)d: the quantity must be at least 1.") % {"n": i})
            continue
        if item.quantity > left:
            errors[where].append(
                _("Item %(n)d: only %(left)d of %(title)s can still be returned.")
                % {"n": i, "left": left, "title": line.title}
            )
            continue
        amount = item.amount_cents
        if amount is None:
            amount = line.total_cents * item.quantity // line.quantity
        if not 0 <= amount <= line.total_cents:
            errors[where].append(_("Item %(n)d: the refund exceeds what was paid.") % {"n": i})
            continue
        built.append(ReturnLine(order_line=line, quantity=item.quantity, amount_cents=amount))
    total = (
        sum(r.amount_cents for r in built)
        + max(shipping_refund_cents, 0)
        + max(other_refund_cents, 0)
    )
    if not errors and total <= 0:
        errors["lines"].append(_("The refund amount is zero."))
    if not errors and order.refunded_cents + total > order.total_cents:
        errors["lines"].append(_("The refunds would exceed the order total."))
    if errors:
        raise OrderRejected(dict(errors))

    record = Return.objects.create(
        order=order,
        external_id=external_id,
        reason=reason,
        comment=comment.strip(),
        shipping_refund_cents=shipping_refund_cents,
        other_refund_cents=other_refund_cents,
        amount_cents=total,
        refunded_at=refunded_at or timezone.now(),
    )
    for r in built:
        r.return_record = record
    ReturnLine.objects.bulk_create(built)
    Order.objects.filter(pk=order.pk).update(refunded_cents=F("refunded_cents") + total)
    events.publish(
        ORDER_REFUNDED,
        customer=order.customer,
        payload={
            "order_id": order.pk,
            "number": order.number,
            "return_id": record.pk,
            "amount_cents": total,
            "reason": reason,
            "lines": [{"order_line_id": r.order_line_id, "quantity": r.quantity} for r in built],
        },
        source=source,
        occurred_at=record.refunded_at,
    )
    refresh_customer_summary(order.customer_id)
    return record


def refresh_customer_summary(customer_id: int | None) -> None:
    """Recompute one customer's order figures from their orders (cancelled ones do not count)."""
    if customer_id is None:
        return
    agg = (
        Order.objects.filter(customer_id=customer_id)
        .exclude(status=OrderStatus.CANCELLED)
        .aggregate(
            first=Min("placed_at"),
            last=Max("placed_at"),
            count=Count("id"),
            total=Sum(F("total_cents") - F("refunded_cents")),
        )
    )
    customer_services.set_order_summary(
        customer_id,
        first_order_at=agg["first"],
        last_order_at=agg["last"],
        order_count=agg["count"],
        total_spent_cents=agg["total"] or 0,
    )


def add_to_customer_summaries(new_orders: dict[int, list[Order]]) -> None:
    """Count brand-new orders into their customers' stored figures, without re-reading orders.

    Only for orders just created (never for changes: those need `refresh_customer_summary`),
    and only cancelled orders left out, as the recount would. The figures are combined
    with the stored ones in the UPDATE itself, so two batches for one customer both count.
    """
    customer_services.add_to_order_summaries(
        {
            customer_id: customer_services.OrderSummary(
                first_order_at=min(order.placed_at for order in orders),
                last_order_at=max(order.placed_at for order in orders),
                order_count=len(orders),
                total_spent_cents=sum(order.total_cents - order.refunded_cents for order in orders),
            )
            for customer_id, orders in new_orders.items()
            if orders
        }
    )


def refresh_customer_summaries(customer_ids: Iterable[int | None]) -> None:
    """`refresh_customer_summary` for many customers: one aggregate query, one bulk update."""
    ids = {customer_id for customer_id in customer_ids if customer_id is not None}
    if not ids:
        return
    rows = (
        Order.objects.filter(customer_id__in=ids)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by()  # the default ordering would end up in the GROUP BY
        .values("customer_id")
        .annotate(
            first=Min("placed_at"),
            last=Max("placed_at"),
            count=Count("id"),
            total=Sum(F("total_cents") - F("refunded_cents")),
        )
        .values_list("customer_id", "first", "last", "count", "total")
    )
    nothing = customer_services.OrderSummary(
        first_order_at=None, last_order_at=None, order_count=0, total_spent_cents=0
    )
    summaries = dict.fromkeys(ids, nothing)
    for customer_id, first, last, count, total in rows:
        summaries[customer_id] = customer_services.OrderSummary(
            first_order_at=first, last_order_at=last, order_count=count,
            total_spent_cents=total or 0,
        )  # fmt: skip
    customer_services.set_order_summaries(summaries)


@transaction.atomic
def save_product(product: Product) -> Product:
    product.full_clean()
    product.save()
    return product


PRODUCT_FIELDS = (
    "name", "category", "price_cents", "tax_rate_bp", "is_consumable",
    "reorder_interval_days", "active",
)  # fmt: skip


@transaction.atomic
def upsert_product(*, sku: str, **fields) -> tuple[Product, bool]:
    """Create or update a product by SKU; returns (product, created). Validates before writing."""
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"Not a product field: {sorted(unknown)}")
    sku = sku.strip()
    product = Product.objects.select_for_update().filter(sku=sku).first()
    created = product is None
    if created:
        product = Product(sku=sku)
    for name, value in fields.items():
        setattr(product, name, value)
    try:
        product.full_clean(validate_unique=created)
    except ValidationError as exc:
        raise ProductRejected(exc.message_dict) from None
    product.save()
    return product, created


class ShopRejected(ValidationError):
    """A sales channel that cannot be created; messages per field."""


@transaction.atomic
def create_shop(*, code: str, name: str, kind: str, is_store: bool = False) -> Shop:
    """Add a sales channel (online shop or store). Validates before writing."""
    shop = Shop(code=code.strip().lower(), name=name.strip(), kind=kind, is_store=is_store)
    try:
        shop.full_clean()
    except ValidationError as exc:
        raise ShopRejected(exc.message_dict) from None
    shop.save()
    return shop
