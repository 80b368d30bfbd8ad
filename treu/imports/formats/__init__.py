"""The formats treu reads, most specific first (the order detection tries them in)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from treu.imports.formats.base import CUSTOMERS, ORDERS, Columns, Format
from treu.imports.formats.generic import TreuCustomers, TreuOrders
from treu.imports.formats.shopify import ShopifyCustomers, ShopifyOrders
from treu.imports.formats.woocommerce import WooCommerceOrders
from treu.imports.reading import FileRefused

AUTO = "auto"
FORMATS: dict[str, Format] = {
    f.key: f
    for f in (
        ShopifyOrders(),
        WooCommerceOrders(),
        TreuOrders(),
        ShopifyCustomers(),
        TreuCustomers(),
    )
}

__all__ = ["AUTO", "CUSTOMERS", "FORMATS", "ORDERS", "Columns", "Format", "choose", "choices"]


def choices() -> list[tuple[str, str]]:
    return [(key, str(f.label)) for key, f in FORMATS.items()]


def _expected() -> str:
    return "; ".join(f"{f.label}: {', '.join(f.required)}" for f in FORMATS.values())


def choose(header: list[str], requested: str = AUTO) -> Format:
    """The format a header is in, or FileRefused naming the columns each format needs."""
    columns = Columns(header)
    if requested and requested != AUTO:
        fmt = FORMATS.get(requested)
        if fmt is None:
            raise FileRefused(_("Unknown format %(format)s.") % {"format": requested})
        missing = fmt.missing(columns)
        if missing:
            raise FileRefused(
                _("The file is not a %(format)s: the columns %(missing)s are missing.")
                % {"format": fmt.label, "missing": ", ".join(missing)}
            )
        return fmt
    for fmt in FORMATS.values():
        if fmt.matches(columns):
            return fmt
    raise FileRefused(
        _(
            "The file's columns match no known format. Found: %(found)s. "
            "Expected at least these columns – %(expected)s."
        )
        % {
            "found": ", ".join(header[:12]) + (" …" if len(header) > 12 else ""),
            "expected": _expected(),
        }
    )
