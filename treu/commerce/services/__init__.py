"""Writes to orders, returns and the catalogue. Every one validates fully before it writes.

A package split by sub-domain: `orders` (validating, taking one order in, cancelling),
`batch` (many orders at once, set-based), `returns`, `summaries` (the customer's order
figures), `catalogue` (products and shops). Import from here.
"""

# Two private names stay reachable here: the batch equivalence test runs the one-by-one
# reference path, the demo generator's test checks its VAT against `_order_tax`.
from treu.commerce.services.batch import _ingest_orders_one_by_one as _ingest_orders_one_by_one
from treu.commerce.services.batch import ingest_orders
from treu.commerce.services.catalogue import (
    PRODUCT_FIELDS,
    ProductRejected,
    ShopRejected,
    create_shop,
    save_product,
    upsert_product,
)
from treu.commerce.services.orders import (
    CLOCK_SKEW,
    IngestResult,
    LineInput,
    OrderInput,
    OrderRejected,
    cancel_order,
    ingest_order,
    validate_order,
)
from treu.commerce.services.orders import _order_tax as _order_tax
from treu.commerce.services.returns import ReturnLineInput, record_return
from treu.commerce.services.summaries import (
    add_to_customer_summaries,
    refresh_customer_summaries,
    refresh_customer_summary,
)

__all__ = [
    "CLOCK_SKEW", "PRODUCT_FIELDS", "IngestResult", "LineInput", "OrderInput", "OrderRejected",
    "ProductRejected", "ReturnLineInput", "ShopRejected", "add_to_customer_summaries",
    "cancel_order", "create_shop", "ingest_order", "ingest_orders", "record_return",
    "refresh_customer_summaries", "refresh_customer_summary", "save_product",
    "upsert_product", "validate_order",
]  # fmt: skip
