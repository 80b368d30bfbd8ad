"""The contract of the product and order endpoints: request and response schemas.

Money is integer euro cents everywhere ("total_cents": 2990 is 29,90 €), currency EUR.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import SkipValidation, model_validator

from treu.api.schemas import (
    MAX_BATCH,
    MAX_PAGE,
    Birthday,
    Cents,
    Moment,
    Page,
    StrictSchema,
    Text,
)

Rate = Annotated[int, Field(strict=True, ge=0, le=10000, description="Basis points: 19 % = 1900")]
Quantity = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
OrderStatusName = Literal["pending", "paid", "shipped", "delivered", "cancelled"]
Reason = Literal["damaged", "defective", "wrong_item", "not_as_described", "changed_mind", "other"]


# -- Products ---------------------------------------------------------------------------------


class ProductIn(StrictSchema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    price_cents: Cents
    tax_rate_bp: Rate = 1900
    category: Annotated[str, Field(max_length=100, description="Category slug")] | None = None
    is_consumable: bool = False
    reorder_interval_days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = None
    active: bool = True


class ProductOut(Schema):
    sku: str
    name: str
    price_cents: int
    tax_rate_bp: int
    category: str | None
    is_consumable: bool
    reorder_interval_days: int | None
    active: bool
    created_at: datetime
    updated_at: datetime


class ProductPage(Page):
    items: list[ProductOut]


class BatchProductIn(ProductIn):
    sku: Annotated[str, Field(min_length=1, max_length=64)]


class ProductBatchIn(StrictSchema):
    products: Annotated[
        list[SkipValidation[BatchProductIn]], Field(min_length=1, max_length=MAX_BATCH)
    ]


class BatchItemOut(Schema):
    index: int
    status: Literal["created", "updated", "unchanged", "stale", "rejected"]
    id: str | None = None
    errors: list[dict] = []


class BatchOut(Schema):
    results: list[BatchItemOut]


class ListFilter(Schema):
    cursor: Text | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50
    updated_since: Moment | None = None


# A refused item of a batch answer (a BatchItemOut), for both batch endpoints.
def _rejected(index: int, errors: list[dict]) -> dict:
    return {"index": index, "status": "rejected", "id": None, "errors": errors}


# -- Orders -----------------------------------------------------------------------------------


class LineIn(StrictSchema):
    external_id: Annotated[str, Field(max_length=128, description="The line's id in the shop")] = ""
    sku: Annotated[str, Field(max_length=64)] = ""
    title: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Quantity
    unit_price_cents: Cents
    discount_cents: Cents = 0
    tax_rate_bp: Rate = 1900
    tax_cents: Cents | None = None


class OrderCustomerIn(StrictSchema):
    """The buyer as the shop knows them; found by the shop's id, then by email, or created."""

    email: Annotated[str, Field(max_length=254)] | None = None
    external_id: Annotated[str, Field(max_length=128)] | None = None
    first_name: Annotated[str, Field(max_length=150)] = ""
    last_name: Annotated[str, Field(max_length=150)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    birthday: Birthday | None = None
    language: Literal["de", "en"] | None = None

    @model_validator(mode="after")
    def _identifiable(self):
        if not (self.email or self.external_id):
            raise ValueError(_("Send the customer's email address or their external_id."))
        return self


class OrderIn(StrictSchema):
    number: Annotated[str, Field(max_length=64)] = ""
    status: OrderStatusName = "paid"
    currency: Annotated[str, Field(max_length=8)] = "EUR"
    placed_at: Moment
    paid_at: Moment | None = None
    fulfilled_at: Moment | None = None
    delivered_at: Moment | None = None
    cancelled_at: Moment | None = None
    source_updated_at: Moment | None = Field(
        None, description="The shop's last change; older versions than the one held are ignored"
    )
    total_cents: Cents
    shipping_cents: Cents = 0
    discount_cents: Cents = 0
    tax_cents: Cents | None = None
    shipping_tax_rate_bp: Rate = 1900
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    customer: OrderCustomerIn | None = None
    customer_number: Annotated[int, Field(strict=True, ge=1)] | None = None

    @model_validator(mode="after")
    def _one_customer(self):
        if self.customer is not None and self.customer_number is not None:
            raise ValueError(_("Send either customer or customer_number, not both."))
        return self


class BatchOrderIn(OrderIn):
    shop: Annotated[str, Field(min_length=1, max_length=50)]
    external_id: Annotated[str, Field(min_length=1, max_length=128)]


class OrderBatchIn(StrictSchema):
    orders: Annotated[list[SkipValidation[BatchOrderIn]], Field(min_length=1, max_length=MAX_BATCH)]


class LineOut(Schema):
    id: int
    external_id: str
    sku: str
    title: str
    quantity: int
    unit_price_cents: int
    discount_cents: int
    total_cents: int
    tax_rate_bp: int
    tax_cents: int


class RefundLineOut(Schema):
    line_id: int
    line_external_id: str
    quantity: int
    amount_cents: int


class RefundOut(Schema):
    id: int
    external_id: str
    reason: str
    comment: str
    amount_cents: int
    shipping_refund_cents: int
    refunded_at: datetime
    lines: list[RefundLineOut]


class OrderOut(Schema):
    shop: str
    external_id: str
    number: str
    status: str
    currency: str
    customer_number: int | None
    subtotal_cents: int
    shipping_cents: int
    discount_cents: int
    total_cents: int
    tax_cents: int
    net_cents: int
    refunded_cents: int
    placed_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    source_updated_at: datetime | None
    lines: list[LineOut]
    refunds: list[RefundOut]
    created_at: datetime
    updated_at: datetime


class OrderWriteOut(Schema):
    result: Literal["created", "updated", "unchanged", "stale"]
    order: OrderOut


class OrderPage(Page):
    items: list[OrderOut]


class OrderFilter(ListFilter):
    shop: Text | None = None
    status: OrderStatusName | None = None
    customer_number: int | None = None


class CancelIn(StrictSchema):
    cancelled_at: Moment | None = None


class RefundLineIn(StrictSchema):
    line_external_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    line_id: Annotated[int, Field(strict=True, ge=1)] | None = None
    quantity: Quantity
    amount_cents: Cents | None = None

    @model_validator(mode="after")
    def _one_line(self):
        if (self.line_external_id is None) == (self.line_id is None):
            raise ValueError(_("Name the order line by line_external_id or by line_id."))
        return self


class RefundIn(StrictSchema):
    external_id: Annotated[
        str, Field(max_length=128, description="The refund's id in the shop")
    ] = ""
    reason: Reason = "other"
    comment: Annotated[str, Field(max_length=2000)] = ""
    shipping_refund_cents: Cents = 0
    refunded_at: Moment | None = None
    lines: Annotated[list[RefundLineIn], Field(max_length=500)] = []
