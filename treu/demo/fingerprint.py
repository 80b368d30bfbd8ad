"""A fingerprint of the shop's data: equal fingerprints mean the same demo was built.

Database ids are left out (they differ between databases and rebuilds);
everything people see is in: names, amounts, moments, event payloads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db.models import Sum

from treu.commerce.models import Order, OrderLine, Return, ReturnLine
from treu.core.models import DomainEvent
from treu.customers.models import Address, Customer, ExternalId, Note

_ID_KEYS = {"order_id", "return_id", "note_id", "order_line_id", "consent_id"}


def _digest(rows: Iterable) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(row).encode())
        h.update(b"\n")
    return h.hexdigest()


def _without_ids(value):
    if isinstance(value, dict):
        return sorted((k, _without_ids(v)) for k, v in value.items() if k not in _ID_KEYS)
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _loyalty_counts() -> dict[str, object]:
    """The demo programme's figures (its codes are random, its choices are seeded)."""
    from treu.loyalty.models import Member, PointsEntry, Redemption, Referral

    return {
        "members": Member.objects.count(),
        "points": list(
            PointsEntry.objects.order_by("kind").values_list("kind").annotate(Sum("points"))
        ),
        "redemptions": Redemption.objects.count(),
        "referrals": Referral.objects.count(),
    }


def fingerprint() -> dict[str, object]:
    customers = Customer.objects.order_by("number").values_list(
        "number", "first_name", "last_name", "email", "phone", "birthday", "language",
        "source_channel", "source_shop__code", "created_at", "updated_at", "first_order_at",
        "last_order_at", "order_count", "total_spent_cents",
    )  # fmt: skip
    addresses = Address.objects.order_by("customer__number", "id").values_list(
        "customer__number", "kind", "company", "street", "address_extra", "postcode", "city",
        "is_default", "created_at",
    )  # fmt: skip
    external = ExternalId.objects.order_by("shop__code", "external_id").values_list(
        "shop__code", "external_id", "customer__number"
    )
    orders = Order.objects.order_by("shop__code", "external_id").values_list(
        "shop__code", "external_id", "number", "customer__number", "status", "subtotal_cents",
        "shipping_cents", "discount_cents", "total_cents", "tax_cents", "net_cents",
        "refunded_cents", "placed_at", "paid_at", "fulfilled_at", "delivered_at", "cancelled_at",
        "created_at", "updated_at",
    )  # fmt: skip
    lines = OrderLine.objects.order_by("order__shop__code", "order__external_id", "id").values_list(
        "order__external_id", "product__sku", "sku", "title", "quantity", "unit_price_cents",
        "discount_cents", "total_cents", "tax_rate_bp", "tax_cents",
    )  # fmt: skip
    returns = Return.objects.order_by("order__shop__code", "order__external_id", "id").values_list(
        "order__external_id", "external_id", "reason", "comment", "shipping_refund_cents",
        "amount_cents", "refunded_at",
    )  # fmt: skip
    return_lines = ReturnLine.objects.order_by(
        "return_record__order__external_id", "order_line__sku", "id"
    ).values_list(
        "return_record__order__external_id", "order_line__sku", "quantity", "amount_cents"
    )
    notes = Note.objects.order_by("customer__number", "created_at", "id").values_list(
        "customer__number", "author__username", "text", "created_at"
    )
    events = (
        (kind, number, occurred, recorded, source, _without_ids(payload))
        for kind, number, occurred, recorded, source, payload in DomainEvent.objects.exclude(
            kind__startswith="loyalty."  # coupon and referral codes are random by design
        )
        .order_by("customer__number", "occurred_at", "kind", "id")
        .values_list("kind", "customer__number", "occurred_at", "recorded_at", "source", "payload")
    )
    sums = Order.objects.aggregate(
        total=Sum("total_cents"), tax=Sum("tax_cents"), refunded=Sum("refunded_cents")
    )
    return {
        "counts": {
            "customers": Customer.objects.count(),
            "addresses": Address.objects.count(),
            "orders": Order.objects.count(),
            "order_lines": OrderLine.objects.count(),
            "returns": Return.objects.count(),
            "notes": Note.objects.count(),
            "events": DomainEvent.objects.count(),
            **_loyalty_counts(),
        },
        "sums": sums,
        "hash": _digest(
            [
                _digest(customers.iterator(chunk_size=5000)),
                _digest(addresses.iterator(chunk_size=5000)),
                _digest(external.iterator(chunk_size=5000)),
                _digest(orders.iterator(chunk_size=5000)),
                _digest(lines.iterator(chunk_size=5000)),
                _digest(returns),
                _digest(return_lines),
                _digest(notes),
                _digest(events),
            ]
        ),
    }
