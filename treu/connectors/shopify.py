"""Shopify webhooks: signature, topics and the mapping of its order, refund and customer JSON.

Shopify signs the raw body: X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(app secret, body)).
The topic is in X-Shopify-Topic, the delivery's id (the same on retries) in
X-Shopify-Webhook-Id. Amounts are decimal strings ("49.90").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from treu.commerce.models import OrderStatus
from treu.commerce.services import LineInput, OrderInput
from treu.connectors import mapping as m

NAME = "shopify"
ORDER_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/fulfilled")
TOPICS = (
    *ORDER_TOPICS,
    "orders/cancelled",
    "refunds/create",
    "customers/create",
    "customers/update",
)
# Shown in the back office and docs: what to subscribe to.
SUBSCRIBE = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "refunds/create",
    "customers/create",
    "customers/update",
)


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(secret: str, body: bytes, headers) -> bool:
    given = headers.get("X-Shopify-Hmac-Sha256", "")
    return bool(given) and hmac.compare_digest(sign(secret, body), given.strip())


def envelope(headers, data: Any) -> tuple[str, str]:
    """(topic, delivery id) of a request."""
    return headers.get("X-Shopify-Topic", "").strip(), headers.get("X-Shopify-Webhook-Id", "")


def instruction(shop, topic: str, data: dict) -> m.Instruction:
    if topic in ORDER_TOPICS or topic == "orders/cancelled":
        return order_instruction(shop, data)
    if topic == "refunds/create":
        return m.Instruction(
            kind=m.REFUND,
            order_external_id=m.ext_id(data.get("order_id")),
            refunds=[refund(data)],
        )
    if topic in ("customers/create", "customers/update"):
        return m.Instruction(kind=m.CUSTOMER, customer=customer(data))
    return m.ignore(_("Topic %(topic)s is not taken in.") % {"topic": topic})


def _address(data: dict | None) -> dict[str, str] | None:
    if not data or not data.get("address1") or not data.get("zip") or not data.get("city"):
        return None
    return {
        "street": m.text(data.get("address1")),
        "address_extra": m.text(data.get("address2")),
        "postcode": m.text(data.get("zip"), 16),
        "city": m.text(data.get("city"), 100),
        "country": m.text(data.get("country_code") or "DE", 2).upper(),
        "company": m.text(data.get("company"), 150),
    }


def customer(data: dict, *, fallback: dict | None = None) -> m.CustomerData:
    fallback = fallback or {}
    return m.CustomerData(
        external_id=m.ext_id(data.get("id")),
        email=data.get("email") or fallback.get("email") or None,
        first_name=m.text(data.get("first_name") or fallback.get("first_name"), 100),
        last_name=m.text(data.get("last_name") or fallback.get("last_name"), 100),
        phone=m.text(data.get("phone") or fallback.get("phone"), 40),
        address=_address(data.get("default_address") or fallback.get("address")),
        occurred_at=m.when(data.get("created_at")),
    )


def _status(data: dict) -> str:
    financial = data.get("financial_status") or ""
    if financial == "voided":
        return OrderStatus.CANCELLED
    if data.get("fulfillment_status") == "fulfilled":
        return OrderStatus.SHIPPED
    if financial in ("paid", "partially_refunded", "refunded"):
        return OrderStatus.PAID
    return OrderStatus.PENDING


def _line(item: dict, n: int) -> LineInput:
    where = _("Line %(n)d") % {"n": n}
    allocations = item.get("discount_allocations")
    if allocations is not None:
        discount = sum(m.cents(a.get("amount"), what=where) for a in allocations)
    else:
        discount = m.cents(item.get("total_discount"), what=where)
    taxes = item.get("tax_lines") or []
    rate = m.rate_bp(Decimal(str(taxes[0].get("rate") or 0)) * 100) if taxes else 0
    return LineInput(
        title=m.text(item.get("title") or item.get("name")) or "?",
        quantity=m.quantity(item.get("quantity"), what=where),
        unit_price_cents=m.cents(item.get("price"), what=where),
        sku=m.text(item.get("sku"), 64),
        discount_cents=discount,
        tax_rate_bp=rate,
        tax_cents=sum(m.cents(t.get("price"), what=where) for t in taxes) if taxes else None,
        external_id=m.ext_id(item.get("id")),
    )


def _shipping(data: dict) -> int:
    total = 0
    for line in data.get("shipping_lines") or []:
        if line.get("discounted_price") not in (None, ""):
            total += m.cents(line["discounted_price"], what=_("Shipping"))
        else:
            allocated = sum(
                m.cents(a.get("amount"), what=_("Shipping"))
                for a in line.get("discount_allocations") or []
            )
            total += m.cents(line.get("price"), what=_("Shipping")) - allocated
    return total


def order_instruction(shop, data: dict) -> m.Instruction:
    if data.get("taxes_included") is False and m.cents(data.get("total_tax"), what="tax"):
        raise m.MappingError(
            _(
                "Shopify sent prices without VAT (taxes_included is false). treu keeps gross "
                "prices; set the shop to show prices including tax."
            )
        )
    lines = [_line(item, n) for n, item in enumerate(data.get("line_items") or [], start=1)]
    tip = m.cents(data.get("total_tip_received"), what=_("Tip"))
    if tip:
        lines.append(LineInput(title=_("Tip"), quantity=1, unit_price_cents=tip, tax_rate_bp=0))
    created = m.when(data.get("created_at"), what="created_at")
    cancelled_at = m.when(data.get("cancelled_at"), what="cancelled_at")
    order = OrderInput(
        shop=shop,
        external_id=m.ext_id(data.get("id")),
        number=m.text(data.get("name") or data.get("order_number"), 64),
        placed_at=m.when(data.get("processed_at")) or created,
        lines=lines,
        total_cents=m.cents(data.get("total_price"), what="total_price"),
        status=_status(data),
        currency=(data.get("currency") or "").upper(),
        shipping_cents=_shipping(data),
        tax_cents=m.cents(data.get("total_tax"), what="total_tax"),
        source_updated_at=m.when(data.get("updated_at")) or created,
        source=NAME,
    )
    person = data.get("customer") or {}
    billing = data.get("billing_address") or {}
    buyer = None
    if person or data.get("email"):
        buyer = customer(
            person,
            fallback={
                "email": data.get("email") or data.get("contact_email"),
                "first_name": billing.get("first_name"),
                "last_name": billing.get("last_name"),
                "phone": data.get("phone") or billing.get("phone"),
                "address": billing,
            },
        )
    return m.Instruction(
        kind=m.ORDER,
        order=order,
        customer=buyer,
        refunds=[refund(r) for r in data.get("refunds") or []],
        cancelled=bool(cancelled_at),
        cancelled_at=cancelled_at,
    )


def refund(data: dict) -> m.RefundData:
    lines = [
        m.RefundLine(
            line_external_id=m.ext_id(item.get("line_item_id")),
            quantity=m.quantity(item.get("quantity"), what=_("Refund")),
            amount_cents=m.cents(item.get("subtotal"), what=_("Refund")),
        )
        for item in data.get("refund_line_items") or []
        if item.get("quantity")
    ]
    by_lines = sum(line.amount_cents or 0 for line in lines)
    money = [
        m.cents(t.get("amount"), what=_("Refund"))
        for t in data.get("transactions") or []
        if t.get("kind") == "refund" and t.get("status", "success") == "success"
    ]
    # Shipping paid back: older API versions list it as an order adjustment (negative),
    # newer ones as refund_shipping_lines.
    shipping = -sum(
        m.cents(a.get("amount"), what=_("Refund"))
        for a in data.get("order_adjustments") or []
        if a.get("kind") == "shipping_refund"
    ) + sum(
        m.cents(
            ((s.get("subtotal_amount_set") or {}).get("shop_money") or {}).get("amount"),
            what=_("Refund"),
        )
        for s in data.get("refund_shipping_lines") or []
    )
    other = 0
    if money:
        paid_back = sum(money)
        if paid_back < by_lines:
            # Less money back than the items were worth (a restocking fee, a partial
            # refund): the lines share what was actually paid back, exactly.
            shares = m.spread(paid_back, [line.amount_cents or 0 for line in lines])
            lines = [
                m.RefundLine(line.line_external_id, line.quantity, share)
                for line, share in zip(lines, shares, strict=True)
            ]
            shipping = 0
        else:
            beyond_lines = paid_back - by_lines
            shipping = min(max(shipping, 0), beyond_lines)
            other = beyond_lines - shipping
    return m.RefundData(
        external_id=m.ext_id(data.get("id")),
        refunded_at=m.when(data.get("processed_at")) or m.when(data.get("created_at")),
        lines=lines,
        shipping_cents=max(shipping, 0),
        other_cents=max(other, 0),
        comment=m.text(data.get("note"), 2000),
    )
