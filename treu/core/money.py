"""Money in treu is integer euro cents: exact on SQLite and PostgreSQL alike.

Floats never touch an amount. These helpers convert at the edges: parsing what
people and shops type, and formatting for German readers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCY = "EUR"
_CENT = Decimal("0.01")


class MoneyError(ValueError):
    """An amount that cannot be read as euros."""


def to_cents(amount: Decimal | int | str) -> int:
    """Euros (Decimal, int or a decimal string with a dot) to cents, rounding half up."""
    if isinstance(amount, float):
        raise MoneyError("Amounts must not be floats.")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise MoneyError(f"{amount!r} is not an amount.") from None
    if not value.is_finite():
        raise MoneyError(f"{amount!r} is not an amount.")
    return int(value.quantize(_CENT, rounding=ROUND_HALF_UP) * 100)


def parse_euro(text: str) -> int:
    """Read an amount as a person in Germany writes it: '1.234,56', '12,5', '12.50 €'."""
    cleaned = text.strip().replace("€", "").replace("EUR", "").replace("\u00a0", "").strip()
    cleaned = cleaned.replace(" ", "")
    if not cleaned:
        raise MoneyError("No amount given.")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif cleaned.count(".") > 1:
        cleaned = cleaned.replace(".", "")
    return to_cents(cleaned)


def to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(_CENT)


def format_euro(cents: int | None, *, with_symbol: bool = True) -> str:
    """1234567 -> '12.345,67 €' (German grouping and decimal comma)."""
    if cents is None:
        return "–"
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    grouped = f"{whole:,}".replace(",", ".")
    text = f"{sign}{grouped},{rest:02d}"
    return f"{text}\u00a0€" if with_symbol else text


def tax_from_gross(gross_cents: int, rate_basis_points: int) -> int:
    """VAT contained in a gross amount, e.g. 19 % = 1900 basis points, rounded half up."""
    if rate_basis_points <= 0:
        return 0
    # Exact integer arithmetic (hot in batch ingestion): half up, away from zero, as
    # Decimal's ROUND_HALF_UP would round gross * rate / (10000 + rate).
    divisor = 2 * (10000 + rate_basis_points)
    tax = (2 * abs(gross_cents) * rate_basis_points + divisor // 2) // divisor
    return tax if gross_cents >= 0 else -tax
