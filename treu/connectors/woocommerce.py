"""WooCommerce webhooks: signature, topics and the mapping of its REST order and customer JSON.

WooCommerce signs the raw body: X-WC-Webhook-Signature = base64(HMAC-SHA256(secret, body)).
Topic in X-WC-Webhook-Topic ("order.updated"), delivery id in X-WC-Webhook-Delivery-ID.
Saving a webhook sends an unsigned form-encoded ping ("webhook_id=12"), answered with 200.
Amounts are decimal strings without VAT per line ("total" + "total_tax").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from treu.commerce.models import OrderStatus
from treu.commerce.services import LineInput, OrderInput
from treu.connectors import mapping as m

NAME = "woocommerce"
ORDER_TOPICS = ("order.created", "order.updated", "order.restored")
TOPICS = (*ORDER_TOPICS, "order.deleted", "customer.created", "customer.updated")
SUBSCRIBE = (
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "customer.created",
    "customer.updated",
)
PING = re.compile(rb"^webhook_id=\d+$")

STATUSES = {
    "pending": OrderStatus.PENDING,
    "on-hold": OrderStatus.PENDING,
    "processing": OrderStatus.PAID,
    "completed": OrderStatus.SHIPPED,
    "refunded": OrderStatus.PAID,  # the refunds themselves are recorded as returns
    "cancelled": OrderStatus.CANCELLED,
    "failed": OrderStatus.CANCELLED,  # payment failed: no purchase
    "trash": OrderStatus.CANCELLED,
}


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(secret: str, body: bytes, headers) -> bool:
    given = headers.get("X-WC-Webhook-Signature", "")
    return bool(given) and hmac.compare_digest(sign(secret, body), given.strip())


def is_ping(body: bytes, headers) -> bool:
    return not headers.get("X-WC-Webhook-Topic") and bool(PING.match(body.strip()))


def envelope(headers, data: Any) -> tuple[str, str]:
    return (
        headers.get("X-WC-Webhook-Topic", "").strip(),
        headers.get("X-WC-Webhook-Delivery-ID", ""),
    )


def instruction(shop, topic: str, data: dict) -> m.Instruction:
    if topic in ORDER_TOPICS:
        if data.get("status") == "checkout-draft":
            return m.ignore(_("Checkout draft, not an order yet."))
        return order_instruction(shop, data)
    if topic == "order.deleted":
        return m.Instruction(
            kind=m.CANCEL,
            order_external_id=m.ext_id(data.get("id")),
            cancelled_at=m.when(data.get("date_modified_gmt"), naive_is_utc=True),
        )
    if topic in ("customer.created", "customer.updated"):
        return m.Instruction(kind=m.CUSTOMER, customer=customer(data))
    return m.ignore(_("Topic %(topic)s is not taken in.") % {"topic": topic})


def _address(data: dict | None) -> dict[str, str] | None:
    if not data or not data.get("address_1") or not data.get("postcode") or not data.get("city"):
        return None
    return {
        "street": m.text(data.get("address_1")),
        "address_extra": m.text(data.get("address_2")),
        "postcode": m.text(data.get("postcode"), 16),
        "city": m.text(data.get("city"), 100),
        "country": m.text(data.get("country") or "DE", 2).upper(),
        "company": m.text(data.get("company"), 150),
    }


def customer(data: dict) -> m.CustomerData:
    billing = data.get("billing") or {}
    return m.CustomerData(
        external_id=m.ext_id(data.get("id")),
        email=data.get("email") or billing.get("email") or None,
        first_name=m.text(data.get("first_name") or billing.get("first_name"), 100),
        last_name=m.text(data.get("last_name") or billing.get("last_name"), 100),
        phone=m.text(billing.get("phone"), 40),
        address=_address(billing) or _address(data.get("shipping")),
        occurred_at=m.when(data.get("date_created_gmt"), naive_is_utc=True),
    )


def _gross_line(title: str, qty: int, gross_before: int, gross_after: int, **kw) -> LineInput:
    """A line whose unit price × quantity − discount is exactly the gross amount paid.

    WooCommerce stores net line amounts and their VAT; the gross unit price is the
    gross amount before discounts divided by the quantity, rounded up to a cent, and the
    line discount takes coupons plus that rounding, so the line total stays exact.
    """
    unit = -(-gross_before // qty)
    return LineInput(
        title=title or "?",
        quantity=qty,
        unit_price_cents=unit,
        discount_cents=unit * qty - gross_after,
        **kw,
    )


def _rate_of(item: dict, rates: dict[str, int], net: int, tax: int) -> int:
    for tax_entry in item.get("taxes") or []:
        rate = rates.get(str(tax_entry.get("id")))
        if rate is not None:
            return rate
    if not tax or not net:
        return 0
    # No tax line named: the nearest German rate to what was charged.
    charged = Decimal(tax) * 10000 / Decimal(net)
    return min((1900, 700, 0), key=lambda r: abs(charged - r))


def order_instruction(shop, data: dict) -> m.Instruction:
    rates = {
        str(t.get("rate_id")): m.rate_bp(t.get("rate_percent"))
        for t in data.get("tax_lines") or []
        if t.get("rate_percent") not in (None, "")
    }
    lines: list[LineInput] = []
    for n, item in enumerate(data.get("line_items") or [], start=1):
        where = _("Line %(n)d") % {"n": n}
        qty = m.quantity(item.get("quantity"), what=where)
        if qty <= 0:
            raise m.MappingError(_("%(what)s: the quantity must be at least 1.") % {"what": where})
        net, tax = (
            m.cents(item.get("total"), what=where),
            m.cents(item.get("total_tax"), what=where),
        )
        before = m.cents(item.get("subtotal"), what=where) + m.cents(
            item.get("subtotal_tax"), what=where
        )
        lines.append(
            _gross_line(
                m.text(item.get("name")),
                qty,
                max(before, net + tax),
                net + tax,
                sku=m.text(item.get("sku"), 64),
                tax_rate_bp=_rate_of(item, rates, net, tax),
                tax_cents=tax,
                external_id=m.ext_id(item.get("id")),
            )
        )
    discount = 0
    for fee in data.get("fee_lines") or []:
        gross = m.cents(fee.get("total"), what=_("Fee")) + m.cents(
            fee.get("total_tax"), what=_("Fee")
        )
        if gross >= 0:
            lines.append(_gross_line(m.text(fee.get("name")) or _("Fee"), 1, gross, gross))
        else:
            discount += -gross
    shipping = m.cents(data.get("shipping_total"), what="shipping_total") + m.cents(
        data.get("shipping_tax"), what="shipping_tax"
    )
    total = m.cents(data.get("total"), what="total")
    lines = _absorb_rounding(
        lines, total - (sum(x.total_cents for x in lines) + shipping - discount)
    )
    created = m.when(data.get("date_created_gmt"), naive_is_utc=True, what="date_created_gmt")
    status = STATUSES.get(data.get("status") or "", OrderStatus.PENDING)
    billing = data.get("billing") or {}
    buyer = None
    if billing.get("email") or m.ext_id(data.get("customer_id")):
        buyer = m.CustomerData(
            external_id=m.ext_id(data.get("customer_id")),
            email=billing.get("email") or None,
            first_name=m.text(billing.get("first_name"), 100),
            last_name=m.text(billing.get("last_name"), 100),
            phone=m.text(billing.get("phone"), 40),
            address=_address(billing),
            occurred_at=created,
        )
    order = OrderInput(
        shop=shop,
        external_id=m.ext_id(data.get("id")),
        number=m.text(data.get("number") or data.get("id"), 64),
        placed_at=created,
        lines=lines,
        total_cents=total,
        status=status,
        currency=(data.get("currency") or "").upper(),
        shipping_cents=shipping,
        discount_cents=discount,
        tax_cents=m.cents(data.get("total_tax"), what="total_tax"),
        paid_at=m.when(data.get("date_paid_gmt"), naive_is_utc=True),
        fulfilled_at=m.when(data.get("date_completed_gmt"), naive_is_utc=True),
        source_updated_at=m.when(data.get("date_modified_gmt"), naive_is_utc=True) or created,
        source=NAME,
    )
    refunds = [
        m.RefundData(
            external_id=m.ext_id(r.get("id")),
            refunded_at=None,
            other_cents=abs(m.cents(r.get("total"), what=_("Refund"))),
            comment=m.text(r.get("reason"), 2000),
        )
        for r in data.get("refunds") or []
    ]
    return m.Instruction(
        kind=m.ORDER,
        order=order,
        customer=buyer,
        refunds=refunds,
        cancelled=status == OrderStatus.CANCELLED,
        cancelled_at=m.when(data.get("date_modified_gmt"), naive_is_utc=True),
    )


def _absorb_rounding(lines: list[LineInput], diff: int) -> list[LineInput]:
    """Put WooCommerce's per-line VAT rounding (a cent per line at most) into the largest line.

    With "round tax at subtotal level" the order total is rounded once, its lines
    each on their own; a bigger gap is a real mismatch and left for the order check.
    """
    if not diff or not lines or abs(diff) > len(lines):
        return lines
    i = max(range(len(lines)), key=lambda k: lines[k].total_cents)
    line = lines[i]
    fixed = _gross_line(
        line.title,
        line.quantity,
        line.quantity * line.unit_price_cents + max(diff, 0),
        line.total_cents + diff,
        sku=line.sku,
        tax_rate_bp=line.tax_rate_bp,
        tax_cents=line.tax_cents,
        external_id=line.external_id,
    )
    return [*lines[:i], fixed, *lines[i + 1 :]]
