"""Shopware 6 app webhooks: signature, events and the mapping of its order and customer entities.

Shopware signs the raw body: shopware-shop-signature = hex(HMAC-SHA256(secret, body)), with the
secret the app handed the shop at registration (treu hands over the connection's secret, see
`registration_response`). The body is {"data": {"event": …, "payload": …}, "source": {"shopId",
"eventId", …}, "timestamp": …}; eventId stays the same on retries. Amounts are JSON numbers.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qsl

from django.utils.translation import gettext as _

from treu.commerce.models import OrderStatus
from treu.commerce.services import LineInput, OrderInput
from treu.connectors import mapping as m

NAME = "shopware"
APP_NAME = "TreuConnector"  # <meta><name> of the app manifest treu hands out
SUBSCRIBE = (
    "checkout.order.placed",
    "state_enter.order.state.cancelled",
    "state_enter.order.state.completed",
    "state_enter.order_transaction.state.paid",
    "state_enter.order_delivery.state.shipped",
    "checkout.customer.register",
)
CUSTOMER_EVENTS = ("checkout.customer.register", "checkout.customer.guest_register")
# Entity events carry ids only (no names, no amounts): nothing to take in.
IDS_ONLY = ("customer.written", "order.written", "customer.deleted", "order.deleted")
EVENT_STATUS = {
    "state_enter.order.state.cancelled": OrderStatus.CANCELLED,
    "state_enter.order_transaction.state.paid": OrderStatus.PAID,
    "state_enter.order_delivery.state.shipped": OrderStatus.SHIPPED,
    "state_enter.order.state.completed": OrderStatus.SHIPPED,
}
PAID_STATES = {"paid", "paid_partially", "refunded", "refunded_partially", "authorized"}
SHIPPED_STATES = {"shipped", "shipped_partially", "returned", "returned_partially"}


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, headers) -> bool:
    given = headers.get("shopware-shop-signature", "")
    return bool(given) and hmac.compare_digest(sign(secret, body), given.strip().lower())


def envelope(headers, data: Any) -> tuple[str, str]:
    if not isinstance(data, dict):
        return "", ""
    inner = data.get("data") if isinstance(data.get("data"), dict) else {}
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    return str(inner.get("event") or "").strip(), str(source.get("eventId") or "")


# -- App registration (Shopware calls these when the app is installed) -------------------------


def verify_registration(secret: str, query_string: str, signature: str) -> bool:
    """shopware-app-signature = hex(HMAC-SHA256(app secret, raw query string))."""
    return bool(signature) and hmac.compare_digest(
        sign(secret, query_string.encode()), signature.strip().lower()
    )


def registration_response(secret: str, query_string: str, confirmation_url: str) -> dict:
    """The proof Shopware checks, and the secret it shall sign webhooks with (the same one)."""
    params = dict(parse_qsl(query_string))
    proof = sign(
        secret, f"{params.get('shop-id', '')}{params.get('shop-url', '')}{APP_NAME}".encode()
    )
    return {"proof": proof, "secret": secret, "confirmation_url": confirmation_url}


# -- Mapping -----------------------------------------------------------------------------------


def instruction(shop, topic: str, data: dict) -> m.Instruction:
    payload = (data.get("data") or {}).get("payload")
    if topic in IDS_ONLY:
        return m.ignore(
            _("Shopware sends only ids for %(event)s; treu takes in orders and customers from "
              "checkout and state events.") % {"event": topic}
        )  # fmt: skip
    if topic in CUSTOMER_EVENTS and isinstance(payload, dict) and payload.get("customer"):
        return m.Instruction(kind=m.CUSTOMER, customer=customer(payload["customer"]))
    if (topic == "checkout.order.placed" or topic.startswith("state_enter.order")) and isinstance(
        payload, dict
    ):
        order = payload.get("order")
        if not isinstance(order, dict):
            raise m.MappingError(_("The event carries no order."))
        if not order.get("lineItems"):
            if EVENT_STATUS.get(topic) == OrderStatus.CANCELLED:
                return m.Instruction(
                    kind=m.CANCEL,
                    order_external_id=m.ext_id(order.get("id")),
                    cancelled_at=m.when(order.get("updatedAt")),
                )
            return m.ignore(_("The event carries no order lines."))
        return order_instruction(shop, order, status=EVENT_STATUS.get(topic))
    return m.ignore(_("Event %(event)s is not taken in.") % {"event": topic})


def _address(data: dict | None) -> dict[str, str] | None:
    if not data or not data.get("street") or not data.get("zipcode") or not data.get("city"):
        return None
    country = data.get("country") or {}
    return {
        "street": m.text(data.get("street")),
        "address_extra": m.text(data.get("additionalAddressLine1")),
        "postcode": m.text(data.get("zipcode"), 16),
        "city": m.text(data.get("city"), 100),
        "country": m.text(country.get("iso") or "DE", 2).upper(),
        "company": m.text(data.get("company"), 150),
    }


def customer(data: dict) -> m.CustomerData:
    address = data.get("defaultBillingAddress") or data.get("activeBillingAddress")
    return m.CustomerData(
        external_id=m.ext_id(data.get("id")),
        email=data.get("email") or None,
        first_name=m.text(data.get("firstName"), 100),
        last_name=m.text(data.get("lastName"), 100),
        phone=m.text((address or {}).get("phoneNumber"), 40),
        address=_address(address),
        occurred_at=m.when(data.get("createdAt")),
    )


def _state(entity: dict | None) -> str:
    return ((entity or {}).get("stateMachineState") or {}).get("technicalName") or ""


def _status(order: dict) -> str:
    if _state(order) == "cancelled":
        return OrderStatus.CANCELLED
    if _state(order) == "completed" or any(
        _state(d) in SHIPPED_STATES for d in order.get("deliveries") or []
    ):
        return OrderStatus.SHIPPED
    if any(_state(t) in PAID_STATES for t in order.get("transactions") or []):
        return OrderStatus.PAID
    return OrderStatus.PENDING


def _tax(item: dict, what: str) -> tuple[int, int | None]:
    taxes = (item.get("price") or {}).get("calculatedTaxes") or []
    if not taxes:
        return 0, None
    rate = m.rate_bp(taxes[0].get("taxRate") or 0)
    return rate, sum(m.cents(t.get("tax"), what=what) for t in taxes)


def order_instruction(shop, data: dict, *, status: str | None = None) -> m.Instruction:
    tax_status = (data.get("price") or {}).get("taxStatus") or data.get("taxStatus") or "gross"
    if tax_status == "net":
        raise m.MappingError(
            _("Shopware sent a net-price order (B2B). treu keeps gross prices; this order is not "
              "taken in.")
        )  # fmt: skip
    lines: list[LineInput] = []
    discount = 0
    items = [i for i in data.get("lineItems") or [] if not i.get("parentId")]
    for n, item in enumerate(sorted(items, key=lambda i: i.get("position") or 0), start=1):
        where = _("Line %(n)d") % {"n": n}
        total = m.cents(item.get("totalPrice"), what=where)
        if total < 0:  # promotions and credits
            discount += -total
            continue
        qty = m.quantity(item.get("quantity"), what=where)
        unit = m.cents(item.get("unitPrice"), what=where)
        rate, tax = _tax(item, where)
        lines.append(
            LineInput(
                title=m.text(item.get("label")) or "?",
                quantity=qty,
                unit_price_cents=unit,
                discount_cents=qty * unit - total,
                sku=m.text((item.get("payload") or {}).get("productNumber"), 64),
                tax_rate_bp=rate,
                tax_cents=tax,
                external_id=m.ext_id(item.get("id")),
            )
        )
    total = m.cents(data.get("amountTotal"), what="amountTotal")
    net = m.cents(data.get("amountNet"), what="amountNet")
    placed = m.when(data.get("orderDateTime"), what="orderDateTime")
    currency = (data.get("currency") or {}).get("isoCode")
    if not currency:
        raise m.MappingError(_("The order does not say its currency."))
    mapped = status or _status(data)
    person = data.get("orderCustomer") or {}
    buyer = None
    if person.get("email") or person.get("customerId"):
        address = _address(data.get("billingAddress"))
        buyer = m.CustomerData(
            external_id=m.ext_id(person.get("customerId")),
            email=person.get("email") or None,
            first_name=m.text(person.get("firstName"), 100),
            last_name=m.text(person.get("lastName"), 100),
            phone=m.text((data.get("billingAddress") or {}).get("phoneNumber"), 40),
            address=address,
            occurred_at=placed,
        )
    order = OrderInput(
        shop=shop,
        external_id=m.ext_id(data.get("id")),
        number=m.text(data.get("orderNumber"), 64),
        placed_at=placed,
        lines=lines,
        total_cents=total,
        status=mapped,
        currency=currency.upper(),
        shipping_cents=m.cents(data.get("shippingTotal"), what="shippingTotal"),
        discount_cents=discount,
        tax_cents=total - net if tax_status != "tax-free" else 0,
        source_updated_at=m.when(data.get("updatedAt")) or m.when(data.get("createdAt")) or placed,
        source=NAME,
    )
    return m.Instruction(
        kind=m.ORDER,
        order=order,
        customer=buyer,
        cancelled=mapped == OrderStatus.CANCELLED,
        cancelled_at=m.when(data.get("updatedAt")),
    )
