"""WooCommerce orders as the official "Customer / Order / Coupon Export" extension writes them.

Its "Default – One Row per Item" format: one row per line item, every row repeating the
order's columns. WooCommerce keeps item and shipping amounts net with their tax in
separate columns; treu stores gross amounts, so net + tax are added per line.
"""

from __future__ import annotations

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
    ORDERS,
    Cells,
    Columns,
    Format,
    OrderRecord,
    group_consecutive,
)
from treu.imports.reading import Row

STATUSES = {
    "pending": OrderStatus.PENDING,
    "on-hold": OrderStatus.PENDING,
    "processing": OrderStatus.PAID,
    "completed": OrderStatus.SHIPPED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.CANCELLED,
    "failed": OrderStatus.CANCELLED,
    # The German labels, for exports made with a translated status column.
    "zahlung ausstehend": OrderStatus.PENDING,
    "in wartestellung": OrderStatus.PENDING,
    "in bearbeitung": OrderStatus.PAID,
    "abgeschlossen": OrderStatus.SHIPPED,
    "storniert": OrderStatus.CANCELLED,
    "rückerstattet": OrderStatus.CANCELLED,
    "erstattet": OrderStatus.CANCELLED,
    "fehlgeschlagen": OrderStatus.CANCELLED,
}
COMMON_RATES = (1900, 700, 0)


def status_of(text: str) -> str:
    text = text.strip().lower()
    text = text.removeprefix("wc-")
    return STATUSES.get(text, text)


def rate_of(net: int, tax: int) -> int:
    """The VAT rate behind a net amount and its tax, snapped to 19 / 7 / 0 % when close."""
    if net <= 0 or tax <= 0:
        return 0 if tax <= 0 else 1900
    exact = round(tax * 10000 / net)
    for rate in COMMON_RATES:
        if abs(exact - rate) <= 50:
            return rate
    return exact


class WooCommerceOrders(Format):
    key = "woocommerce-orders"
    label = gettext_lazy("WooCommerce order export (one row per item)")
    entity = ORDERS
    required = (
        "order_id", "order_date", "status", "order_total", "item_name", "item_quantity",
        "item_total",
    )  # fmt: skip
    optional = (
        "order_number", "order_number_formatted", "shipping_total", "shipping_tax_total",
        "fee_total", "fee_tax_total", "tax_total", "order_currency", "customer_id",
        "billing_first_name", "billing_last_name", "billing_email", "billing_phone", "item_sku",
        "item_subtotal", "item_subtotal_tax", "item_total_tax", "item_id", "date_completed",
        "paid_date",
    )  # fmt: skip
    field_columns = {
        "external_id": "order_id",
        "placed_at": "order_date",
        "currency": "order_currency",
        "status": "status",
        "shipping_cents": "shipping_total",
        "discount_cents": "order_total",
        "total_cents": "order_total",
        "tax_cents": "tax_total",
        "email": "billing_email",
    }
    line_columns = {"lines": "item_name"}

    def records(self, rows: Iterable[Row], columns: Columns, *, shop) -> Iterator[OrderRecord]:
        get = {name: columns.getter(name) for name in self.required + self.optional}
        for group in group_consecutive(rows, get["order_id"]):
            yield self._order(group, get, shop)

    def _order(self, group: list[Row], get, shop) -> OrderRecord:
        first = Cells(group[0], get)
        errors = first.errors
        lines: list[LineInput] = []
        for row in group:
            cells = first if row is group[0] else Cells(row, get)
            quantity = cells.read("item_quantity", parsing.whole_number, default=1)
            net = cells.read("item_total", parsing.cents, default=0)
            tax = cells.read("item_total_tax", parsing.cents_or_zero, default=0)
            if cells.text("item_subtotal"):
                before = cells.read("item_subtotal", parsing.cents, default=net)
                before += cells.read("item_subtotal_tax", parsing.cents_or_zero, default=0)
            else:
                before = net + tax
            if cells is not first:
                errors.extend(cells.errors)
            gross = net + tax
            # A whole-cent unit price for the undiscounted amount; the remainder is discount.
            unit = -(-before // quantity) if quantity > 0 else before
            lines.append(
                LineInput(
                    title=cells.text("item_name"),
                    sku=cells.text("item_sku")[:64],
                    quantity=quantity,
                    unit_price_cents=unit,
                    discount_cents=max(unit * max(quantity, 0) - gross, 0),
                    tax_rate_bp=rate_of(net, tax),
                    tax_cents=tax,
                    external_id=cells.text("item_id"),
                )
            )
        fees = first.read("fee_total", parsing.cents_or_zero, default=0)
        fees += first.read("fee_tax_total", parsing.cents_or_zero, default=0)
        if fees > 0:
            lines.append(LineInput(title=_("Fees"), quantity=1, unit_price_cents=fees))
        placed_at = first.read("order_date", parsing.when)
        paid_at = first.read("paid_date", parsing.optional_when)
        completed_at = first.read("date_completed", parsing.optional_when)
        shipping = first.read("shipping_total", parsing.cents_or_zero, default=0)
        shipping += first.read("shipping_tax_total", parsing.cents_or_zero, default=0)
        total = first.read("order_total", parsing.cents, default=0)
        tax_total = first.read("tax_total", lambda t: parsing.cents(t) if t.strip() else None)
        email = first.text("billing_email")
        woo_customer = first.text("customer_id")
        external = woo_customer if woo_customer not in ("", "0") else ""
        customer = None
        if email or external:
            customer = CustomerInput(
                shop=shop if external else None,
                external_id=external,
                email=email or None,
                first_name=first.text("billing_first_name")[:150],
                last_name=first.text("billing_last_name")[:150],
                phone=first.text("billing_phone")[:40],
                source_channel=SourceChannel.ONLINE_SHOP,
                occurred_at=placed_at,
            )
        order = None
        if not errors:
            number = (
                first.text("order_number_formatted")
                or first.text("order_number")
                or first.text("order_id")
            )
            status = status_of(first.text("status"))
            order = OrderInput(
                shop=shop,
                external_id=first.text("order_id"),
                number=number[:64],
                placed_at=placed_at,
                lines=lines,
                total_cents=total,
                status=status,
                currency=(first.text("order_currency") or CURRENCY).upper(),
                shipping_cents=shipping,
                tax_cents=tax_total,
                paid_at=paid_at,
                fulfilled_at=completed_at if status == OrderStatus.SHIPPED else None,
                source="csv-import",
            )
        return OrderRecord(
            lines=[row.line for row in group], order=order, customer=customer, errors=errors
        )
