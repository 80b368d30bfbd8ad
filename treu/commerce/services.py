"""Writes to orders, returns and the catalogue. Every one validates fully before it writes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Min, Sum
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
from treu.core.money import CURRENCY, tax_from_gross
from treu.customers import services as customer_services

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


def _validate(data: OrderInput) -> dict[str, list[str]]:
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


@transaction.atomic
def ingest_order(data: OrderInput) -> IngestResult:
    """Create or update an order from a shop, exactly once per (shop, external id).

    Replaying the same order changes nothing. A changed order replaces its lines
    unless goods were already returned, in which case only status and dates move.
    Raises OrderRejected, writing nothing, when the order does not add up.
    """
    errors = _validate(data)
    if errors:
        raise OrderRejected(errors)
    header = _header(data)
    order = (
        Order.objects.select_for_update()
        .filter(shop=data.shop, external_id=data.external_id)
        .first()
    )
    if order is None:
        order = Order.objects.create(shop=data.shop, external_id=data.external_id, **header)
        built = _build_lines(order, data.lines)
        OrderLine.objects.bulk_create(built)
        item_count = sum(line.quantity for line in built)
        events.publish(
            ORDER_INGESTED,
            customer=order.customer,
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
        raise OrderRejected(
            {
                "lines": [
                    _("Goods of this order were already returned; its lines can no longer change.")
                ]
            }
        )
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
    events.publish(
        kind, customer=order.customer, payload=_payload(order, item_count), source=data.source
    )
    refresh_customer_summary(order.customer_id)
    if previous_customer_id and previous_customer_id != order.customer_id:
        refresh_customer_summary(previous_customer_id)
    return IngestResult(order=order, created=False, changed=True)


def ingest_orders(batch: list[OrderInput]) -> list[IngestResult | OrderRejected]:
    """Ingest many orders; the answer lists, in input order, each one's result or refusal.

    A refused order (OrderRejected) writes nothing and does not stop the others.
    Same semantics as `ingest_order` for each item, including replays and stale versions.
    """
    results: list[IngestResult | OrderRejected] = []
    for data in batch:
        try:
            results.append(ingest_order(data))
        except OrderRejected as rejected:
            results.append(rejected)
    return results


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
    if not lines and shipping_refund_cents <= 0:
        errors["lines"].append(_("Choose at least one item or refund shipping."))
    if shipping_refund_cents < 0:
        errors["shipping_refund_cents"].append(_("Amounts must not be negative."))
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
    total = sum(r.amount_cents for r in built) + max(shipping_refund_cents, 0)
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
