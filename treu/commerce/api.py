"""REST endpoints for products and orders (mounted at /api/v1/products and /api/v1/orders).

Money is integer euro cents everywhere ("total_cents": 2990 is 29,90 €), currency EUR.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Body, Field, Query, Router, Schema
from pydantic import SkipValidation, model_validator
from pydantic import ValidationError as PydanticValidationError

from treu.api.errors import ApiError, from_pydantic, from_service, not_found
from treu.api.schemas import (
    CLOCK_SKEW,
    MAX_BATCH,
    MAX_PAGE,
    Birthday,
    Cents,
    Moment,
    Page,
    Status,
    StrictSchema,
    Text,
    errors_for,
    paginate,
)
from treu.commerce import selectors, services
from treu.commerce.models import (
    Category,
    Order,
    OrderLine,
    Product,
    Return,
    Shop,
)
from treu.customers import selectors as customer_selectors
from treu.customers import services as customer_services

products_router = Router(tags=["products"])
orders_router = Router(tags=["orders"])

Rate = Annotated[int, Field(strict=True, ge=0, le=10000, description="Basis points: 19 % = 1900")]
Quantity = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
OrderStatusName = Literal["pending", "paid", "shipped", "delivered", "cancelled"]
Reason = Literal["damaged", "defective", "wrong_item", "not_as_described", "changed_mind", "other"]
SOURCE = "api"


def _shop(code: str) -> Shop:
    shop = selectors.shops().filter(code=code).first()
    if shop is None:
        raise not_found(_("There is no shop with this code."), loc=("path", "shop"))
    return shop


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


def _product_out(product: Product) -> dict:
    return {
        **{name: getattr(product, name) for name in ProductOut.model_fields if name != "category"},
        "category": product.category.slug if product.category else None,
    }


def _category(slug: str | None, loc: tuple) -> Category | None:
    if not slug:
        return None
    category = selectors.product_categories().filter(slug=slug).first()
    if category is None:
        raise ApiError(422, _("There is no category with this slug."), loc=loc, type="rejected")
    return category


def _upsert_product(sku: str, data: ProductIn, *, loc: tuple) -> tuple[Product, bool]:
    fields = data.model_dump(exclude={"sku", "category"})
    fields["category"] = _category(data.category, (*loc, "category"))
    try:
        return services.upsert_product(sku=sku, **fields)
    except services.ProductRejected as exc:
        raise ApiError(422, "", errors=from_service(exc, prefix=loc)) from None


@products_router.get("", response={200: ProductPage, **errors_for(422)}, summary="List products")
def list_products(request, filters: Query[ListFilter]):
    qs = Product.objects.select_related("category")
    if filters.updated_since:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    rows, next_cursor = paginate(qs, cursor=filters.cursor, limit=filters.limit)
    return {"items": [_product_out(p) for p in rows], "next_cursor": next_cursor}


@products_router.post(
    "/batch", response={200: BatchOut, **errors_for(422)}, summary="Upsert up to 1,000 products"
)
def product_batch(request, payload: ProductBatchIn):
    results = []
    for index, raw in enumerate(payload.products):
        loc = ("body", "products", index)
        try:
            item = BatchProductIn.model_validate(raw)
            with transaction.atomic():
                product, created = _upsert_product(item.sku, item, loc=loc)
        except PydanticValidationError as exc:
            results.append(_rejected(index, from_pydantic(exc.errors(), prefix=loc)))
        except ApiError as exc:
            results.append(_rejected(index, exc.errors))
        else:
            status = "created" if created else "updated"
            results.append({"index": index, "status": status, "id": product.sku, "errors": []})
    return {"results": results}


@products_router.get(
    "/{sku}", response={200: ProductOut, **errors_for(404)}, summary="Get a product"
)
def get_product(request, sku: Text):
    product = Product.objects.select_related("category").filter(sku=sku).first()
    if product is None:
        raise not_found(_("There is no product with this SKU."), loc=("path", "sku"))
    return _product_out(product)


@products_router.put(
    "/{sku}",
    response={200: ProductOut, 201: ProductOut, **errors_for(422)},
    summary="Create or update a product",
)
def put_product(request, sku: Annotated[Text, Field(max_length=64)], payload: ProductIn):
    """201 when the SKU was new, 200 when it was updated."""
    product, created = _upsert_product(sku, payload, loc=("body",))
    return Status(201 if created else 200, _product_out(product))


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


def _orders() -> QuerySet[Order]:
    return Order.objects.select_related("shop", "customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch(
            "returns",
            queryset=Return.objects.order_by("refunded_at", "id").prefetch_related(
                "lines__order_line"
            ),
        ),
    )


def _refund_out(record: Return) -> dict:
    return {
        "id": record.pk,
        "external_id": record.external_id,
        "reason": record.reason,
        "comment": record.comment,
        "amount_cents": record.amount_cents,
        "shipping_refund_cents": record.shipping_refund_cents,
        "refunded_at": record.refunded_at,
        "lines": [
            {
                "line_id": rl.order_line_id,
                "line_external_id": rl.order_line.external_id,
                "quantity": rl.quantity,
                "amount_cents": rl.amount_cents,
            }
            for rl in record.lines.all()
        ],
    }


def _order_out(order: Order) -> dict:
    plain = set(OrderOut.model_fields) - {"shop", "customer_number", "lines", "refunds"}
    return {
        **{name: getattr(order, name) for name in plain},
        "shop": order.shop.code,
        "customer_number": order.customer.number if order.customer else None,
        "lines": [
            {name: getattr(line, name) for name in LineOut.model_fields}
            for line in order.lines.all()
        ],
        "refunds": [_refund_out(r) for r in order.returns.all()],
    }


def _order(shop: Shop, external_id: str) -> Order:
    order = _orders().filter(shop=shop, external_id=external_id).first()
    if order is None:
        raise not_found(
            _("There is no order with this id in this shop."), loc=("path", "external_id")
        )
    return order


def _order_input(
    shop: Shop, external_id: str, data: OrderIn, customer_id: int | None
) -> services.OrderInput:
    return services.OrderInput(
        shop=shop,
        external_id=external_id,
        customer_id=customer_id,
        lines=[services.LineInput(**line.model_dump()) for line in data.lines],
        source=SOURCE,
        **data.model_dump(exclude={"lines", "customer", "customer_number", "shop", "external_id"}),
    )


def _customer_input(shop: Shop, block: OrderCustomerIn) -> customer_services.CustomerInput:
    return customer_services.CustomerInput(
        shop=shop,
        external_id=block.external_id or "",
        email=block.email,
        first_name=block.first_name,
        last_name=block.last_name,
        phone=block.phone,
        birthday=block.birthday,
        language=block.language or "",
        source_channel="store" if shop.is_store else "online",
    )


def _customer_id_by_number(number: int, loc: tuple) -> int:
    customer = customer_selectors.customer_by_number(number)
    if customer is None:
        raise ApiError(422, _("There is no customer with this number."), loc=loc, type="rejected")
    return customer.pk


def _result_name(result: services.IngestResult) -> str:
    if result.created:
        return "created"
    if result.stale:
        return "stale"
    return "updated" if result.changed else "unchanged"


@orders_router.get("", response={200: OrderPage, **errors_for(422)}, summary="List orders")
def list_orders(request, filters: Query[OrderFilter]):
    qs = _orders()
    if filters.updated_since:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    if filters.shop:
        qs = qs.filter(shop__code=filters.shop)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.customer_number is not None:
        qs = qs.filter(customer__number=filters.customer_number)
    rows, next_cursor = paginate(qs, cursor=filters.cursor, limit=filters.limit)
    return {"items": [_order_out(o) for o in rows], "next_cursor": next_cursor}


@orders_router.get(
    "/{shop}/{external_id}", response={200: OrderOut, **errors_for(404)}, summary="Get an order"
)
def get_order(request, shop: Text, external_id: Text):
    return _order_out(_order(_shop(shop), external_id))


@orders_router.put(
    "/{shop}/{external_id}",
    response={200: OrderWriteOut, 201: OrderWriteOut, **errors_for(404, 409, 422)},
    summary="Create or update an order",
)
def put_order(
    request, shop: Text, external_id: Annotated[Text, Field(max_length=128)], payload: OrderIn
):
    """Exactly once per (shop, external_id): sending the same order again changes nothing;
    a version with an older `source_updated_at` than the one held is ignored ("stale")."""
    the_shop = _shop(shop)
    with transaction.atomic():  # the customer and the order: both or neither
        customer_id = None
        if payload.customer_number is not None:
            customer_id = _customer_id_by_number(
                payload.customer_number, ("body", "customer_number")
            )
        elif payload.customer is not None:
            try:
                upserted = customer_services.upsert_customer(
                    event_source=SOURCE,
                    **_customer_kwargs(_customer_input(the_shop, payload.customer)),
                )
            except customer_services.CustomerError as exc:
                raise ApiError(
                    422, "", errors=from_service(exc, prefix=("body", "customer"))
                ) from None
            customer_id = upserted.customer.pk
        result = services.ingest_order(_order_input(the_shop, external_id, payload, customer_id))
    status = 201 if result.created else 200
    return Status(
        status,
        {"result": _result_name(result), "order": _order_out(_order(the_shop, external_id))},
    )


def _customer_kwargs(item: customer_services.CustomerInput) -> dict:
    return {
        "shop": item.shop,
        "external_id": item.external_id,
        "email": item.email,
        "source_channel": item.source_channel,
        "first_name": item.first_name,
        "last_name": item.last_name,
        "phone": item.phone,
        "birthday": item.birthday,
        "language": item.language,
    }


@orders_router.post(
    "/{shop}/{external_id}/cancel",
    response={200: OrderOut, **errors_for(404, 409, 422)},
    summary="Cancel an order",
)
def cancel_order(request, shop: Text, external_id: Text, payload: Body[CancelIn] = None):
    """Cancelling a cancelled order changes nothing. An order with refunds cannot be
    cancelled (409): record its return instead."""
    order = _order(_shop(shop), external_id)
    when = payload.cancelled_at if payload else None
    if when and when > timezone.now() + CLOCK_SKEW:
        raise ApiError(422, _("The date lies in the future."), loc=("body", "cancelled_at"))
    try:
        services.cancel_order(order, when=when, source=SOURCE)
    except services.OrderRejected as exc:
        raise ApiError(409, "", errors=from_service(exc), headers={}) from None
    return _order_out(_order(order.shop, external_id))


@orders_router.post(
    "/{shop}/{external_id}/refunds",
    response={200: RefundOut, 201: RefundOut, **errors_for(404, 422)},
    summary="Record a refund or return",
)
def refund_order(request, shop: Text, external_id: Text, payload: RefundIn):
    """Lines are named by the shop's line id (`line_external_id`) or treu's (`line_id`).
    Exactly once per refund `external_id`: sending it again returns the refund recorded
    first (200) and changes nothing."""
    order = _order(_shop(shop), external_id)
    if payload.refunded_at and payload.refunded_at > timezone.now() + CLOCK_SKEW:
        raise ApiError(422, _("The date lies in the future."), loc=("body", "refunded_at"))
    by_external = {line.external_id: line.pk for line in order.lines.all() if line.external_id}
    lines, errors = [], []
    for i, item in enumerate(payload.lines):
        line_id = (
            item.line_id if item.line_id is not None else by_external.get(item.line_external_id)
        )
        if line_id is None:
            field = "line_external_id"
            errors.append(
                {
                    "loc": ["body", "lines", i, field],
                    "msg": _("This order has no line with this id."),
                    "type": "rejected",
                }
            )
            continue
        lines.append(
            services.ReturnLineInput(
                order_line_id=line_id, quantity=item.quantity, amount_cents=item.amount_cents
            )
        )
    if errors:
        raise ApiError(422, "", errors=errors)
    existed = bool(payload.external_id) and any(
        r.external_id == payload.external_id for r in order.returns.all()
    )
    record = services.record_return(
        order,
        lines=lines,
        reason=payload.reason,
        comment=payload.comment,
        shipping_refund_cents=payload.shipping_refund_cents,
        refunded_at=payload.refunded_at,
        external_id=payload.external_id,
        source=SOURCE,
    )
    record = Return.objects.prefetch_related("lines__order_line").get(pk=record.pk)
    return Status(200 if existed else 201, _refund_out(record))


@orders_router.post(
    "/batch",
    response={200: BatchOut, **errors_for(422)},
    summary="Create or update up to 1,000 orders",
)
def order_batch(request, payload: OrderBatchIn):
    """Each order is validated and taken in on its own: a refused order writes nothing and
    does not stop the others. The answer lists each one's result by position (`index`)."""
    results: dict[int, dict] = {}
    items: list[tuple[int, BatchOrderIn]] = []
    for index, raw in enumerate(payload.orders):
        try:
            items.append((index, BatchOrderIn.model_validate(raw)))
        except PydanticValidationError as exc:
            results[index] = _rejected(
                index, from_pydantic(exc.errors(), prefix=("body", "orders", index))
            )
    shops = {
        s.code: s for s in selectors.shops().filter(code__in={item.shop for _i, item in items})
    }
    numbers = {item.customer_number for _i, item in items if item.customer_number is not None}
    customer_ids = _customer_ids_by_number(numbers)
    ready: list[tuple[int, BatchOrderIn, Shop, int | None]] = []
    for index, item in items:
        loc = ("body", "orders", index)
        shop = shops.get(item.shop)
        if shop is None:
            results[index] = _rejected(
                index, [_error((*loc, "shop"), _("There is no shop with this code."))]
            )
            continue
        customer_id = None
        if item.customer_number is not None:
            customer_id = customer_ids.get(item.customer_number)
            if customer_id is None:
                results[index] = _rejected(
                    index,
                    [
                        _error(
                            (*loc, "customer_number"), _("There is no customer with this number.")
                        )
                    ],
                )
                continue
        # Check the order before its customer is written, so a refused order leaves no trace.
        problems = services.validate_order(_order_input(shop, item.external_id, item, customer_id))
        if problems:
            exc = services.OrderRejected(problems)
            results[index] = _rejected(index, from_service(exc, prefix=loc))
            continue
        ready.append((index, item, shop, customer_id))

    with_customer = [(n, entry) for n, entry in enumerate(ready) if entry[1].customer is not None]
    outcomes = customer_services.upsert_customers(
        [_customer_input(entry[2], entry[1].customer) for _n, entry in with_customer],
        event_source=SOURCE,
    )
    resolved: dict[int, int] = {}
    for (n, entry), outcome in zip(with_customer, outcomes, strict=True):
        if isinstance(outcome, ValidationError):
            index = entry[0]
            results[index] = _rejected(
                index, from_service(outcome, prefix=("body", "orders", index, "customer"))
            )
        else:
            resolved[n] = outcome.customer.pk
    inputs = []
    for n, (index, item, shop, customer_id) in enumerate(ready):
        if index in results:
            continue
        inputs.append(
            (index, _order_input(shop, item.external_id, item, resolved.get(n, customer_id)))
        )
    ingested = services.ingest_orders([data for _i, data in inputs])
    for (index, data), outcome in zip(inputs, ingested, strict=True):
        if isinstance(outcome, ValidationError):
            results[index] = _rejected(
                index, from_service(outcome, prefix=("body", "orders", index))
            )
        else:
            results[index] = {
                "index": index,
                "status": _result_name(outcome),
                "id": f"{data.shop.code}/{data.external_id}",
                "errors": [],
            }
    return {"results": [results[i] for i in sorted(results)]}


def _error(loc: tuple, msg: str) -> dict:
    return {"loc": list(loc), "msg": msg, "type": "rejected"}


def _customer_ids_by_number(numbers: set[int]) -> dict[int, int]:
    if not numbers:
        return {}
    return {
        c.number: c.pk
        for c in customer_selectors.customer_list(customer_selectors.CustomerFilters())
        .filter(number__in=numbers)
        .only("pk", "number")
    }
