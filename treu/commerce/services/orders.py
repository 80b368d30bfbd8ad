"""Taking one order in: validating it, creating or updating it exactly once, cancelling it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.commerce.events import ORDER_CANCELLED, ORDER_INGESTED, ORDER_UPDATED
from treu.commerce.models import Order, OrderLine, OrderStatus, Product, Shop
from treu.commerce.services.summaries import refresh_customer_summary
from treu.core import events
from treu.core.money import CURRENCY, tax_from_gross
from treu.customers import selectors as customer_selectors

# Orders placed this far in the future are rejected: shop clocks drift, but not by days.
CLOCK_SKEW = timedelta(minutes=10)


class OrderRejected(ValidationError):
    """An order (or return) that does not add up; messages are German, per field."""


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


_STATUSES = frozenset(OrderStatus.values)  # Choices.values builds a new list per call


def validate_order(data: OrderInput, *, now: datetime | None = None) -> dict[str, list[str]]:
    """The order's problems per field, in German; empty when it can be taken in.

    `now` lets a batch read the clock once instead of per order.
    """
    errors: dict[str, list[str]] = defaultdict(list)
    if not data.external_id.strip():
        errors["external_id"].append(_("The order has no id from the shop."))
    if data.currency != CURRENCY:
        errors["currency"].append(
            _("Currency %(currency)s is not supported; treu works in EUR.")
            % {"currency": data.currency}
        )
    if data.status not in _STATUSES:
        errors["status"].append(_("Unknown order status %(status)r.") % {"status": data.status})
    if timezone.is_naive(data.placed_at):
        errors["placed_at"].append(_("The order time has no time zone."))
    elif data.placed_at > (now or timezone.now()) + CLOCK_SKEW:
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
