"""treu's own CSV formats: one row per order line, and one row per customer (docs/csv-import.md)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.commerce import selectors as commerce_selectors
from treu.commerce.models import OrderStatus
from treu.commerce.services import LineInput, OrderInput
from treu.core.money import CURRENCY
from treu.customers.models import SourceChannel
from treu.customers.services import CustomerInput
from treu.imports import parsing
from treu.imports.formats.base import (
    CUSTOMERS,
    ORDERS,
    Cells,
    Columns,
    CustomerRecord,
    Format,
    OrderRecord,
    RowError,
    group_consecutive,
)
from treu.imports.reading import Row

STATUS_WORDS = {
    **{s: s for s in OrderStatus.values},
    "offen": OrderStatus.PENDING,
    "ausstehend": OrderStatus.PENDING,
    "bezahlt": OrderStatus.PAID,
    "versendet": OrderStatus.SHIPPED,
    "versandt": OrderStatus.SHIPPED,
    "zugestellt": OrderStatus.DELIVERED,
    "geliefert": OrderStatus.DELIVERED,
    "storniert": OrderStatus.CANCELLED,
}


def status_of(text: str, default: str = OrderStatus.PAID) -> str:
    text = text.strip().lower()
    return STATUS_WORDS.get(text, text) if text else default


class TreuOrders(Format):
    key = "treu-orders"
    label = gettext_lazy("treu orders (one row per order line)")
    entity = ORDERS
    required = ("order_id", "order_date", "item", "quantity", "unit_price", "total")
    optional = (
        "customer_email", "customer_external_id", "first_name", "last_name", "phone", "sku",
        "line_discount", "vat_rate", "shipping", "order_discount", "status", "currency", "shop",
        "order_number",
    )  # fmt: skip
    field_columns = {
        "external_id": "order_id",
        "placed_at": "order_date",
        "currency": "currency",
        "status": "status",
        "shipping_cents": "shipping",
        "discount_cents": "order_discount",
        "total_cents": "total",
        "tax_cents": "total",
        "email": "customer_email",
        "external_id_customer": "customer_external_id",
    }
    line_columns = {"lines": "item"}

    def records(self, rows: Iterable[Row], columns: Columns, *, shop) -> Iterator[OrderRecord]:
        get = {name: columns.getter(name) for name in self.required + self.optional}
        shops = {s.code.lower(): s for s in commerce_selectors.shops()}
        order_id = get["order_id"]
        for group in group_consecutive(rows, order_id):
            yield self._order(group, get, shop, shops)

    def _order(self, group: list[Row], get, default_shop, shops) -> OrderRecord:
        first = Cells(group[0], get)
        errors = first.errors
        shop = default_shop
        code = first.text("shop")
        if code:
            shop = shops.get(code.lower())
            if shop is None:
                errors.append(
                    RowError(first.row.line, "shop", _("There is no shop with this code in treu."))
                )
        lines: list[LineInput] = []
        for row in group:
            cells = first if row is group[0] else Cells(row, get)
            quantity = cells.read("quantity", parsing.whole_number, default=1)
            price = cells.read("unit_price", parsing.cents, default=0)
            discount = cells.read("line_discount", parsing.cents_or_zero, default=0)
            rate = cells.read("vat_rate", parsing.vat_rate, default=1900)
            if cells is not first:
                errors.extend(cells.errors)
            lines.append(
                LineInput(
                    title=cells.text("item"),
                    sku=cells.text("sku")[:64],
                    quantity=quantity,
                    unit_price_cents=price,
                    discount_cents=discount,
                    tax_rate_bp=rate,
                )
            )
        placed_at = first.read("order_date", parsing.when)
        shipping = first.read("shipping", parsing.cents_or_zero, default=0)
        discount = first.read("order_discount", parsing.cents_or_zero, default=0)
        total = first.read("total", parsing.cents, default=0)
        email = first.text("customer_email")
        external = first.text("customer_external_id")
        customer = None
        if email or external:
            customer = CustomerInput(
                shop=shop,
                external_id=external,
                email=email or None,
                first_name=first.text("first_name"),
                last_name=first.text("last_name"),
                phone=first.text("phone")[:40],
                source_channel=SourceChannel.IMPORT,
                occurred_at=placed_at,
            )
        order = None
        if not errors and shop is not None:
            number = first.text("order_number") or first.text("order_id")
            order = OrderInput(
                shop=shop,
                external_id=first.text("order_id"),
                number=number[:64],
                placed_at=placed_at,
                lines=lines,
                total_cents=total,
                status=status_of(first.text("status")),
                currency=(first.text("currency") or CURRENCY).upper(),
                shipping_cents=shipping,
                discount_cents=discount,
                source="csv-import",
            )
        return OrderRecord(
            lines=[row.line for row in group], order=order, customer=customer, errors=errors
        )


def address_from(cells: Cells, names: dict[str, str]) -> dict[str, str] | None:
    """An address when street, postcode and city are all given; otherwise none (not an error)."""
    values = {field: cells.text(column) for field, column in names.items()}
    if not (values.get("street") and values.get("postcode") and values.get("city")):
        return None
    country = (values.get("country") or "DE").strip().upper()
    return {
        "company": values.get("company", "")[:150],
        "street": values["street"][:200],
        "address_extra": values.get("address_extra", "")[:200],
        "postcode": values["postcode"][:16],
        "city": values["city"][:100],
        "country": country[:2] if len(country) >= 2 else "DE",
    }


class TreuCustomers(Format):
    key = "treu-customers"
    label = gettext_lazy("treu customers (one row per customer)")
    entity = CUSTOMERS
    required = ("email", "first_name", "last_name")
    optional = (
        "external_id", "phone", "birthday", "language", "company", "street", "address_extra",
        "postcode", "city", "country",
    )  # fmt: skip
    field_columns = {
        "email": "email",
        "external_id": "external_id",
        "first_name": "first_name",
        "last_name": "last_name",
        "phone": "phone",
        "birthday": "birthday",
        "language": "language",
    }
    address_columns = {
        "company": "company",
        "street": "street",
        "address_extra": "address_extra",
        "postcode": "postcode",
        "city": "city",
        "country": "country",
    }

    def records(self, rows: Iterable[Row], columns: Columns, *, shop) -> Iterator[CustomerRecord]:
        get = {name: columns.getter(name) for name in self.required + self.optional}
        for row in rows:
            cells = Cells(row, get)
            birthday = cells.read("birthday", lambda t: parsing.when(t).date() if t else None)
            language = cells.text("language").lower()[:2]
            email, external = cells.text("email"), cells.text("external_id")
            if not email and not external:
                cells.errors.append(
                    RowError(row.line, "email", _("The row has neither an email nor an id."))
                )
            customer = CustomerInput(
                shop=shop if external else None,
                external_id=external,
                email=email or None,
                first_name=cells.text("first_name")[:150],
                last_name=cells.text("last_name")[:150],
                phone=cells.text("phone")[:40],
                birthday=birthday,
                language=language if language in {"de", "en"} else "",
                source_channel=SourceChannel.IMPORT,
            )
            yield CustomerRecord(
                line=row.line,
                customer=None if cells.errors else customer,
                address=address_from(cells, self.address_columns),
                errors=cells.errors,
            )
