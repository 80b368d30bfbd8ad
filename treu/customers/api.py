"""REST endpoints for customers (mounted at /api/v1/customers by treu.api.main)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import SkipValidation, model_validator
from pydantic import ValidationError as PydanticValidationError

from treu.api.errors import ApiError, from_pydantic, from_service, not_found
from treu.api.schemas import (
    MAX_BATCH,
    MAX_PAGE,
    Birthday,
    Moment,
    Page,
    Status,
    StrictSchema,
    Text,
    errors_for,
    paginate,
)
from treu.commerce import selectors as commerce_selectors
from treu.customers import selectors, services
from treu.customers.models import Customer, ExternalId

router = Router(tags=["customers"])

Name = Annotated[str, Field(max_length=150)]
Phone = Annotated[str, Field(max_length=40)]
Language = Literal["de", "en"]
Channel = Literal["online", "store", "marketplace", "import", "api", "manual"]


class ExternalIdOut(Schema):
    shop: str
    external_id: str


class CustomerOut(Schema):
    number: int
    display_number: str
    email: str | None
    first_name: str
    last_name: str
    phone: str
    birthday: date | None
    language: str
    source_channel: str
    external_ids: list[ExternalIdOut]
    order_count: int
    total_spent_cents: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CustomerPage(Page):
    items: list[CustomerOut]


class CustomerIn(StrictSchema):
    """Found by the shop's id (shop + external_id) first, then by email; created otherwise."""

    email: Annotated[str, Field(max_length=254)] | None = None
    shop: Annotated[str, Field(max_length=50, description="Shop code, e.g. 'online'")] | None = None
    external_id: Annotated[str, Field(max_length=128)] | None = None
    first_name: Name = ""
    last_name: Name = ""
    phone: Phone = ""
    birthday: Birthday | None = None
    language: Language | None = None
    source_channel: Channel = "api"

    @model_validator(mode="after")
    def _identifiable(self):
        if self.external_id and not self.shop:
            raise ValueError(_("An external_id needs the shop it comes from."))
        if not (self.email or self.external_id):
            raise ValueError(_("Send an email address or a shop with external_id."))
        return self


class CustomerUpdate(StrictSchema):
    email: Annotated[str, Field(max_length=254)] | None = None
    first_name: Name = ""
    last_name: Name = ""
    phone: Phone = ""
    birthday: Birthday | None = None
    language: Language = "de"


class CustomerBatchIn(StrictSchema):
    customers: Annotated[
        list[SkipValidation[CustomerIn]], Field(min_length=1, max_length=MAX_BATCH)
    ]


class BatchItemOut(Schema):
    index: int
    status: Literal["created", "updated", "unchanged", "rejected"]
    number: int | None = None
    errors: list[dict] = []


class BatchOut(Schema):
    results: list[BatchItemOut]


class CustomerFilter(Schema):
    cursor: str | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50
    updated_since: Moment | None = None
    email: Text | None = None


# -- Reads ------------------------------------------------------------------------------------


def _with_links(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    return qs.prefetch_related(
        Prefetch("external_ids", queryset=ExternalId.objects.select_related("shop"))
    )


def _out(customer: Customer) -> dict:
    return {
        **{
            name: getattr(customer, name)
            for name in CustomerOut.model_fields
            if name != "external_ids"
        },
        "external_ids": [
            {"shop": link.shop.code, "external_id": link.external_id}
            for link in customer.external_ids.all()
        ],
    }


def _customer(number: Text) -> Customer:
    digits = number.upper().removeprefix("K")
    found = selectors.customer_by_number(int(digits)) if digits.isdigit() else None
    if found is None:
        raise not_found(_("There is no customer with this number."), loc=("path", "number"))
    return _with_links(Customer.objects.filter(pk=found.pk)).get()


def _shops(codes: set[str]) -> dict[str, object]:
    return {shop.code: shop for shop in commerce_selectors.shops().filter(code__in=codes)}


@router.get("", response={200: CustomerPage, **errors_for(422)}, summary="List customers")
def list_customers(request, filters: Query[CustomerFilter]):
    """Oldest first, `limit` per page; follow `next_cursor` until it is null."""
    qs = Customer.objects.filter(erased_at__isnull=True)
    if filters.updated_since:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    if filters.email:
        qs = qs.filter(email=filters.email.strip().lower())
    rows, next_cursor = paginate(_with_links(qs), cursor=filters.cursor, limit=filters.limit)
    return {"items": [_out(c) for c in rows], "next_cursor": next_cursor}


@router.post(
    "/batch", response={200: BatchOut, **errors_for(422)}, summary="Upsert up to 1,000 customers"
)
def upsert_customer_batch(request, payload: CustomerBatchIn):
    """Each customer is validated and upserted on its own: one refused customer does not stop
    the others. The answer lists each one's result by its position (`index`, from 0)."""
    results: dict[int, dict] = {}
    valid: list[tuple[int, CustomerIn]] = []
    for index, raw in enumerate(payload.customers):
        try:
            valid.append((index, CustomerIn.model_validate(raw)))
        except PydanticValidationError as exc:
            results[index] = _rejected(
                index, from_pydantic(exc.errors(), prefix=("body", "customers", index))
            )
    shops = _shops({item.shop for _i, item in valid if item.shop})
    inputs: list[tuple[int, services.CustomerInput]] = []
    for index, item in valid:
        if item.shop and item.shop not in shops:
            loc = ["body", "customers", index, "shop"]
            results[index] = _rejected(
                index,
                [{"loc": loc, "msg": _("There is no shop with this code."), "type": "rejected"}],
            )
            continue
        inputs.append(
            (
                index,
                services.CustomerInput(
                    shop=shops.get(item.shop or ""),
                    external_id=item.external_id or "",
                    email=item.email,
                    source_channel=item.source_channel,
                    **_details(item),
                ),
            )
        )
    outcomes = services.upsert_customers([i for _n, i in inputs], event_source="api")
    for (index, _input), outcome in zip(inputs, outcomes, strict=True):
        results[index] = _batch_item(index, outcome)
    return {"results": [results[i] for i in sorted(results)]}


@router.get("/{number}", response={200: CustomerOut, **errors_for(404)}, summary="Get a customer")
def get_customer(request, number: Text):
    return _out(_customer(number))


# -- Writes -----------------------------------------------------------------------------------


def _details(data: CustomerIn | CustomerUpdate) -> dict:
    return {
        "first_name": data.first_name,
        "last_name": data.last_name,
        "phone": data.phone,
        "birthday": data.birthday,
        "language": data.language or "",
    }


@router.post(
    "",
    response={200: CustomerOut, 201: CustomerOut, **errors_for(422)},
    summary="Upsert a customer",
)
def upsert_customer(request, payload: CustomerIn):
    """Finds the customer by the shop's id, then by email, and updates only the fields sent
    (blank fields never erase); creates the customer when neither matches. 201 when created."""
    shop = None
    if payload.shop:
        shop = _shops({payload.shop}).get(payload.shop)
        if shop is None:
            raise ApiError(422, _("There is no shop with this code."), loc=("body", "shop"))
    result = services.upsert_customer(
        shop=shop,
        external_id=payload.external_id or "",
        email=payload.email,
        source_channel=payload.source_channel,
        event_source="api",
        **_details(payload),
    )
    customer = _with_links(Customer.objects.filter(pk=result.customer.pk)).get()
    return Status(201 if result.created else 200, _out(customer))


def _update(number: str, changes: dict) -> dict:
    with transaction.atomic():
        customer = _customer(number)
        services.update_customer(customer, event_source="api", **changes)
    return _out(_customer(number))


@router.put(
    "/{number}",
    response={200: CustomerOut, **errors_for(404, 422)},
    summary="Replace a customer's details",
)
def replace_customer(request, number: Text, payload: CustomerUpdate):
    """Sets every editable field; fields left out become empty."""
    return _update(number, payload.model_dump())


@router.patch(
    "/{number}",
    response={200: CustomerOut, **errors_for(404, 422)},
    summary="Change some of a customer's details",
)
def change_customer(request, number: Text, payload: CustomerUpdate):
    """Changes only the fields sent."""
    return _update(number, payload.model_dump(exclude_unset=True))


def _rejected(index: int, errors: list[dict]) -> dict:
    return {"index": index, "status": "rejected", "number": None, "errors": errors}


def _batch_item(index: int, outcome) -> dict:
    if isinstance(outcome, ValidationError):
        return _rejected(index, from_service(outcome, prefix=("body", "customers", index)))
    status = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
    return {"index": index, "status": status, "number": outcome.customer.number, "errors": []}
