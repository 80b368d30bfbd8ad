"""Reading single cells as shops and spreadsheets write them: amounts, counts, dates, rates.

Every reader raises CellError with a German message (through gettext) that names
what was expected, never the person the row is about.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core.money import MoneyError, parse_euro


class CellError(ValueError):
    """A cell that cannot be read; `reason` is the message shown next to its line."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# "12", "12.5", "12,50", "-3.00": the shapes almost every cell has, read without Decimal.
_SIMPLE_AMOUNT = re.compile(r"^(-?)(\d+)(?:[.,](\d{1,2}))?$")


def cents(text: str) -> int:
    """Euros as written in German ('1.234,56') or by a shop ('1234.56') to integer cents."""
    text = text.strip()
    match = _SIMPLE_AMOUNT.match(text)
    if match:
        sign, whole, fraction = match.groups()
        value = int(whole) * 100 + int((fraction or "0").ljust(2, "0"))
        return -value if sign else value
    try:
        return parse_euro(text)
    except MoneyError:
        raise CellError(_("This is not an amount (e.g. 12,50 or 12.50).")) from None


def cents_or_zero(text: str) -> int:
    return cents(text) if text.strip() else 0


def whole_number(text: str) -> int:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    # Spreadsheets like to write counts as "2,00" or "2.0".
    try:
        value = cents(text)
    except CellError:
        value = None
    if value is not None and value % 100 == 0:
        return value // 100
    raise CellError(_("This is not a whole number."))


_GERMAN_DATE = re.compile(
    r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_SPACE_BEFORE_OFFSET = re.compile(r"\s+([+-]\d{2}:?\d{2})$")


def when(text: str) -> datetime:
    """ISO 8601, Shopify's '2024-03-01 14:22:05 +0100' or German '01.03.2024 14:22'.

    Times without an offset are Berlin time, which is what a German shop and Excel mean.
    """
    text = text.strip()
    if not text:
        raise CellError(_("The date is missing."))
    try:
        match = _GERMAN_DATE.match(text)
        if match:
            day, month, year, hour, minute, second = match.groups()
            value = datetime(  # noqa: DTZ001 - made aware below
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        else:
            iso = _SPACE_BEFORE_OFFSET.sub(r"\1", text)
            if iso.endswith(("Z", "z")):
                iso = iso[:-1] + "+00:00"
            value = datetime.fromisoformat(iso)
    except ValueError:
        raise CellError(
            _("This is not a date (expected e.g. 2024-03-01 14:22 or 01.03.2024 14:22).")
        ) from None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=timezone.get_default_timezone())
    return value


def optional_when(text: str) -> datetime | None:
    return when(text) if text.strip() else None


def vat_rate(text: str, *, default: int = 1900) -> int:
    """'19', '19 %', '7,0', '0.07' -> basis points (1900, 700)."""
    text = text.strip().replace("%", "").strip()
    if not text:
        return default
    try:
        hundredths = cents(text)
    except CellError:
        raise CellError(_("This is not a VAT rate (e.g. 19 or 7).")) from None
    if 0 < hundredths < 100:  # a fraction: 0.19
        hundredths *= 100
    if not 0 <= hundredths <= 10000:
        raise CellError(_("The VAT rate must be between 0 and 100 %."))
    return hundredths


def yes(text: str) -> bool:
    return text.strip().lower() in {"yes", "ja", "true", "wahr", "1", "y", "x"}


def shop_id(text: str) -> str:
    """Shopify writes ids and phone numbers as '8779761975521 so Excel keeps them as text."""
    return text.strip().lstrip("'").strip()
