"""Shopify's own CSV exports: customers (Customers > Export) and orders (Orders > Export).

The order export has one row per line item; the order's own values (totals, dates,
status, billing) are filled in only on its first row, later rows repeat just the
order's Name and Email. Ids and phone numbers may carry a leading apostrophe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    split_name,
)
from treu.imports.formats.generic import address_from
from treu.imports.reading import Row

_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")


def status_of(financial: str, fulfillment: str, cancelled: bool) -> str:
    financial = financial.strip().lower()
    if cancelled or financial in {"refunded", "voided"}:
        return OrderStatus.CANCELLED
    if financial in {"pending", "authorized", "partially_paid", "expired"}:
        return OrderStatus.PENDING
    if fulfillment.strip().lower() == "fulfilled":
        return OrderStatus.SHIPPED
    return OrderStatus.PAID


def rate_from_tax_name(name: str) -> int | None:
    """'DE MwSt 19%' -> 1900; None when the name holds no percentage."""
    match = _PERCENT.search(name)
    if not match:
        return None
    try:
        return parsing.vat_rate(match.group(1))
    except parsing.CellError:
        return None


class ShopifyOrders(Format):
    key = "shopify-orders"
    label = gettext_lazy("Shopify order export")
    entity = ORDERS
    required = (
        "Name", "Email", "Financial Status", "Currency", "Total", "Created at",
        "Lineitem quantity", "Lineitem name", "Lineitem price",
    )  # fmt: skip
    optional = (
        "Paid at", "Fulfillment Status", "Fulfilled at", "Subtotal", "Shipping", "Taxes",
        "Discount Amount", "Lineitem sku", "Lineitem taxable", "Lineitem discount",
        "Billing Name", "Billing Phone", "Shipping Name", "Cancelled at", "Id", "Phone",
        "Tax 1 Name", "Tax 2 Name", "Refunded Amount",
    )  # fmt: skip
    field_columns = {
        "external_id": "Id",
        "placed_at": "Created at",
        "currency": "Currency",
        "status": "Financial Status",
        "shipping_cents": "Shipping",
        "discount_cents": "Discount Amount",
        "total_cents": "Total",
        "tax_cents": "Taxes",
        "email": "Email",
    }
    line_columns = {"lines": "Lineitem name"}

    def records(self, rows: Iterable[Row], columns: Columns, *, shop) -> Iterator[OrderRecord]:
        get = {name: columns.getter(name) for name in self.required + self.optional}
        for group in group_consecutive(rows, get["Name"]):
            yield self._order(group, get, shop)

    def _order(self, group: list[Row], get, shop) -> OrderRecord:
        first = Cells(group[0], get)
        errors = first.errors
        taxes_named = [first.text("Tax 1 Name"), first.text("Tax 2 Name")]
        single_rate = rate_from_tax_name(taxes_named[0]) if not taxes_named[1] else None
        lines: list[LineInput] = []
        for row in group:
            cells = first if row is group[0] else Cells(row, get)
            quantity = cells.read("Lineitem quantity", parsing.whole_number, default=1)
            price = cells.read("Lineitem price", parsing.cents, default=0)
            discount = cells.read("Lineitem discount", parsing.cents_or_zero, default=0)
            taxable = cells.text("Lineitem taxable")
            rate = 0 if taxable and not parsing.yes(taxable) else (single_rate or 1900)
            if cells is not first:
                errors.extend(cells.errors)
            lines.append(
                LineInput(
                    title=cells.text("Lineitem name"),
                    sku=cells.text("Lineitem sku")[:64],
                    quantity=quantity,
                    unit_price_cents=price,
                    discount_cents=discount,
                    tax_rate_bp=rate,
                )
            )
        placed_at = first.read("Created at", parsing.when)
        paid_at = first.read("Paid at", parsing.optional_when)
        fulfilled_at = first.read("Fulfilled at", parsing.optional_when)
        cancelled_at = first.read("Cancelled at", parsing.optional_when)
        shipping = first.read("Shipping", parsing.cents_or_zero, default=0)
        discount = first.read("Discount Amount", parsing.cents_or_zero, default=0)
        # Lines carry their share of the discount already when the export has that column.
        discount = max(discount - sum(line.discount_cents for line in lines), 0)
        taxes = first.read("Taxes", lambda t: parsing.cents(t) if t.strip() else None)
        total = first.read("Total", parsing.cents, default=0)
        email = first.text("Email")
        customer = None
        if email:
            name = first.text("Billing Name") or first.text("Shipping Name")
            first_name, last_name = split_name(name)
            customer = CustomerInput(
                email=email,
                first_name=first_name[:150],
                last_name=last_name[:150],
                phone=parsing.shop_id(first.text("Billing Phone") or first.text("Phone"))[:40],
                source_channel=SourceChannel.ONLINE_SHOP,
                occurred_at=placed_at,
            )
        order = None
        if not errors:
            name = first.text("Name")
            order = OrderInput(
                shop=shop,
                external_id=parsing.shop_id(first.text("Id")) or name,
                number=name[:64],
                placed_at=placed_at,
                lines=lines,
                total_cents=total,
                status=status_of(
                    first.text("Financial Status"),
                    first.text("Fulfillment Status"),
                    cancelled_at is not None,
                ),
                currency=(first.text("Currency") or CURRENCY).upper(),
                shipping_cents=shipping,
                discount_cents=discount,
                tax_cents=taxes,
                paid_at=paid_at,
                fulfilled_at=fulfilled_at,
                cancelled_at=cancelled_at,
                source="csv-import",
            )
        return OrderRecord(
            lines=[row.line for row in group], order=order, customer=customer, errors=errors
        )


class ShopifyCustomers(Format):
    key = "shopify-customers"
    label = gettext_lazy("Shopify customer export")
    entity = CUSTOMERS
    required = ("First Name", "Last Name", "Email", "Total Spent", "Total Orders")
    optional = (
        "Customer ID", "Phone", "Default Address Phone", "Default Address Company",
        "Default Address Address1", "Default Address Address2", "Default Address City",
        "Default Address Zip", "Default Address Country Code",
        # Exports before 2023 named the address columns without "Default Address".
        "Company", "Address1", "Address2", "City", "Zip", "Country Code",
    )  # fmt: skip
    field_columns = {
        "email": "Email",
        "external_id": "Customer ID",
        "first_name": "First Name",
        "last_name": "Last Name",
        "phone": "Phone",
    }

    def records(self, rows: Iterable[Row], columns: Columns, *, shop) -> Iterator[CustomerRecord]:
        get = {name: columns.getter(name) for name in self.required + self.optional}
        prefix = "Default Address " if columns.has("Default Address City") else ""
        address_columns = {
            "company": f"{prefix}Company",
            "street": f"{prefix}Address1",
            "address_extra": f"{prefix}Address2",
            "postcode": f"{prefix}Zip",
            "city": f"{prefix}City",
            "country": f"{prefix}Country Code",
        }
        for row in rows:
            cells = Cells(row, get)
            external = parsing.shop_id(cells.text("Customer ID"))
            email = cells.text("Email")
            if not email and not external:
                # Shopify lists phone-only customers; treu finds people by email or shop id.
                cells.errors.append(
                    RowError(row.line, "Email", _("The row has neither an email nor an id."))
                )
            phone = parsing.shop_id(cells.text("Phone") or cells.text("Default Address Phone"))
            customer = CustomerInput(
                shop=shop if external else None,
                external_id=external,
                email=email or None,
                first_name=cells.text("First Name")[:150],
                last_name=cells.text("Last Name")[:150],
                phone=phone[:40],
                source_channel=SourceChannel.ONLINE_SHOP,
            )
            yield CustomerRecord(
                line=row.line,
                customer=None if cells.errors else customer,
                address=address_from(cells, address_columns),
                errors=cells.errors,
            )
