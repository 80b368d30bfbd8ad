"""What every platform mapping produces, and the helpers they share.

A platform module (shopify.py, woocommerce.py, shopware.py) turns one verified
delivery into an `Instruction`: plain data, no writes. `services.apply_instruction`
then writes it through the customers and commerce services in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from treu.commerce.services import OrderInput
from treu.core.money import MoneyError, to_cents


class MappingError(Exception):
    """The payload cannot be taken in as it is; retrying will not help."""


class NotYet(Exception):
    """Something this delivery refers to has not arrived yet (e.g. a refund before its order).

    The worker retries later.
    """


@dataclass(frozen=True)
class CustomerData:
    external_id: str = ""
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    address: dict[str, str] | None = None  # fields of customers.Address, used for new customers
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class RefundLine:
    line_external_id: str
    quantity: int
    amount_cents: int | None = None


@dataclass(frozen=True)
class RefundData:
    external_id: str
    refunded_at: datetime | None
    lines: list[RefundLine] = field(default_factory=list)
    shipping_cents: int = 0  # shipping paid back
    other_cents: int = 0  # money back tied to neither a line nor shipping
    comment: str = ""


# What an instruction asks for.
ORDER = "order"
CUSTOMER = "customer"
REFUND = "refund"
CANCEL = "cancel"
IGNORE = "ignore"


@dataclass(frozen=True)
class Instruction:
    kind: str
    order: OrderInput | None = None
    customer: CustomerData | None = None
    refunds: list[RefundData] = field(default_factory=list)
    order_external_id: str = ""
    # The shop cancelled the order. Applied as status "cancelled" unless the order has
    # refunds: treu then keeps the refunds as the record of the money going back.
    cancelled: bool = False
    cancelled_at: datetime | None = None
    note: str = ""


def ignore(note: str) -> Instruction:
    return Instruction(kind=IGNORE, note=note)


# -- Helpers ---------------------------------------------------------------------------------


def load_json(body: str) -> Any:
    """JSON with every number that has a fraction read as Decimal: no float touches money."""
    return json.loads(body, parse_float=Decimal)


def cents(value: Any, *, what: str) -> int:
    """A platform's amount ("49.90", Decimal('49.9'), 12) in cents; missing counts as 0."""
    if value is None or value == "":
        return 0
    if isinstance(value, float):  # never produced by load_json, but refuse rather than round
        raise MappingError(_("%(what)s is not an exact amount.") % {"what": what})
    try:
        return to_cents(str(value))
    except MoneyError:
        raise MappingError(
            _("%(what)s is not an amount: %(value)r.") % {"what": what, "value": value}
        ) from None


def rate_bp(percent: Any) -> int:
    """A VAT rate in percent (19, "19.0000", Decimal('7')) as basis points."""
    try:
        return int((Decimal(str(percent)) * 100).to_integral_value())
    except ArithmeticError:
        raise MappingError(_("VAT rate %(rate)r is not a number.") % {"rate": percent}) from None


def when(value: Any, *, naive_is_utc: bool = False, what: str = "date") -> datetime | None:
    """An ISO 8601 time as an aware datetime. WooCommerce's *_gmt fields carry no offset."""
    if value in (None, ""):
        return None
    parsed = parse_datetime(str(value).replace(" ", "T", 1))
    if parsed is None:
        raise MappingError(_("%(what)s is not a date: %(value)r.") % {"what": what, "value": value})
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise MappingError(_("%(what)s has no time zone.") % {"what": what})
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def text(value: Any, limit: int = 200) -> str:
    return str(value).strip()[:limit] if value not in (None, "") else ""


def ext_id(value: Any) -> str:
    """A platform id (number or string) as treu stores it; 0 and empty mean none."""
    if value in (None, "", 0, "0"):
        return ""
    return str(value).strip()


def quantity(value: Any, *, what: str) -> int:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise MappingError(_("%(what)s: the quantity is not a number.") % {"what": what}) from None
    if number != number.to_integral_value():
        raise MappingError(_("%(what)s: the quantity is not a whole number.") % {"what": what})
    return int(number)


def spread(total: int, weights: list[int]) -> list[int]:
    """Split `total` cents over weights in proportion, exactly (largest remainder)."""
    whole = sum(weights)
    if whole <= 0:
        return [0 for _ in weights]
    shares = [total * w // whole for w in weights]
    rest = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (total * weights[i]) % whole, reverse=True)
    for i in order[:rest]:
        shares[i] += 1
    return shares
