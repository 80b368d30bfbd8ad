"""Every write to customer data goes through here, in a transaction, with its event.

A package split by sub-domain: `customer` (one customer: creating, updating, notes, tags,
addresses, shop ids, upserting), `batch` (upserting many at once, set-based), `summaries`
(the order figures commerce stores on the customer), `merging`. Import from here.
"""

from treu.customers.services.batch import CustomerInput, upsert_customers

# Private, but reachable here: the batch equivalence test runs the one-by-one reference path.
from treu.customers.services.batch import (
    _upsert_customers_one_by_one as _upsert_customers_one_by_one,
)
from treu.customers.services.customer import (
    CUSTOMER_NUMBER_START,
    EDITABLE_FIELDS,
    CustomerError,
    UpsertResult,
    add_address,
    add_note,
    add_tag_to_customers,
    create_customer,
    link_external_id,
    set_tags,
    update_customer,
    upsert_customer,
)
from treu.customers.services.merging import MergeResult, merge_customers, register_merge_handler
from treu.customers.services.summaries import (
    OrderSummary,
    add_to_order_summaries,
    set_order_summaries,
    set_order_summary,
)

__all__ = [
    "CUSTOMER_NUMBER_START", "EDITABLE_FIELDS", "CustomerError", "CustomerInput",
    "MergeResult", "OrderSummary", "UpsertResult", "add_address", "add_note",
    "add_tag_to_customers",
    "add_to_order_summaries", "create_customer", "link_external_id", "merge_customers",
    "register_merge_handler", "set_order_summaries", "set_order_summary", "set_tags",
    "update_customer", "upsert_customer", "upsert_customers",
]  # fmt: skip
