"""REST endpoints for orders (mounted at /api/v1/orders): one by one, refunds, batches.

Money is integer euro cents everywhere ("total_cents": 2990 is 29,90 €), currency EUR.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Body, Field, Query, Router
from pydantic import ValidationError as PydanticValidationError

from treu.api.errors import ApiError, from_pydantic, from_service, not_found
from treu.api.schemas import CLOCK_SKEW, Status, Text, errors_for, paginate
from treu.commerce import selectors, services
from treu.commerce.api.schemas import (
    BatchOrderIn,
    BatchOut,
    CancelIn,
    LineOut,
    OrderBatchIn,
    OrderCustomerIn,
    OrderFilter,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderWriteOut,
    RefundIn,
    RefundOut,
    _rejected,
)
from treu.commerce.models import Order, OrderLine, Return, Shop
from treu.customers import selectors as customer_selectors
from treu.customers import services as customer_services

orders_router = Router(tags=["orders"])

SOURCE = "api"

# Operation ids are pinned: clients generate code from them, and django-ninja would
# otherwise derive them from this module's path.


def _shop(code: str) -> Shop:
    shop = selectors.shops().filter(code=code).first()
    if shop is None:
        raise not_found(_("There is no shop with this code."), loc=("path", "shop"))
    return shop


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


@orders_router.get(
    "",
    response={200: OrderPage, **errors_for(422)},
    summary="List orders",
    operation_id="treu_commerce_api_list_orders",
)
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
    "/{shop}/{external_id}",
    response={200: OrderOut, **errors_for(404)},
    summary="Get an order",
    operation_id="treu_commerce_api_get_order",
)
def get_order(request, shop: Text, external_id: Text):
    return _order_out(_order(_shop(shop), external_id))


@orders_router.put(
    "/{shop}/{external_id}",
    response={200: OrderWriteOut, 201: OrderWriteOut, **errors_for(404, 409, 422)},
    summary="Create or update an order",
    operation_id="treu_commerce_api_put_order",
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
    operation_id="treu_commerce_api_cancel_order",
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
    operation_id="treu_commerce_api_refund_order",
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
    operation_id="treu_commerce_api_order_batch",
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
    ready: list[tuple[int, BatchOrderIn, Shop, services.OrderInput]] = []
    now = timezone.now()
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
        data = _order_input(shop, item.external_id, item, customer_id)
        problems = services.validate_order(data, now=now)
        if problems:
            exc = services.OrderRejected(problems)
            results[index] = _rejected(index, from_service(exc, prefix=loc))
            continue
        ready.append((index, item, shop, data))

    # Each distinct customer block once: a regular's five orders in one call name the same
    # person five times; upserting the block again would only find nothing to change.
    blocks: dict[customer_services.CustomerInput, list[int]] = {}
    for n, (_index, item, shop, _data) in enumerate(ready):
        if item.customer is not None:
            blocks.setdefault(_customer_input(shop, item.customer), []).append(n)
    outcomes = customer_services.upsert_customers(list(blocks), event_source=SOURCE)
    resolved: dict[int, int] = {}
    for positions, outcome in zip(blocks.values(), outcomes, strict=True):
        for n in positions:
            if isinstance(outcome, ValidationError):
                index = ready[n][0]
                results[index] = _rejected(
                    index, from_service(outcome, prefix=("body", "orders", index, "customer"))
                )
            else:
                resolved[n] = outcome.customer.pk
    inputs = []
    for n, (index, _item, _shop, data) in enumerate(ready):
        if index in results:
            continue
        if n in resolved:
            data = replace(data, customer_id=resolved[n])
        inputs.append((index, data))
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
