"""REST endpoints for products (mounted at /api/v1/products)."""

from __future__ import annotations

from typing import Annotated

from django.db import transaction
from django.utils.translation import gettext as _
from ninja import Field, Query, Router
from pydantic import ValidationError as PydanticValidationError

from treu.api.errors import ApiError, from_pydantic, from_service, not_found
from treu.api.schemas import Status, Text, errors_for, paginate
from treu.commerce import selectors, services
from treu.commerce.api.schemas import (
    BatchOut,
    BatchProductIn,
    ListFilter,
    ProductBatchIn,
    ProductIn,
    ProductOut,
    ProductPage,
    _rejected,
)
from treu.commerce.models import Category, Product

products_router = Router(tags=["products"])

# Operation ids are pinned: clients generate code from them, and django-ninja would
# otherwise derive them from this module's path.


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


@products_router.get(
    "",
    response={200: ProductPage, **errors_for(422)},
    summary="List products",
    operation_id="treu_commerce_api_list_products",
)
def list_products(request, filters: Query[ListFilter]):
    qs = Product.objects.select_related("category")
    if filters.updated_since:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    rows, next_cursor = paginate(qs, cursor=filters.cursor, limit=filters.limit)
    return {"items": [_product_out(p) for p in rows], "next_cursor": next_cursor}


@products_router.post(
    "/batch",
    response={200: BatchOut, **errors_for(422)},
    summary="Upsert up to 1,000 products",
    operation_id="treu_commerce_api_product_batch",
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
    "/{sku}",
    response={200: ProductOut, **errors_for(404)},
    summary="Get a product",
    operation_id="treu_commerce_api_get_product",
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
    operation_id="treu_commerce_api_put_product",
)
def put_product(request, sku: Annotated[Text, Field(max_length=64)], payload: ProductIn):
    """201 when the SKU was new, 200 when it was updated."""
    product, created = _upsert_product(sku, payload, loc=("body",))
    return Status(201 if created else 200, _product_out(product))
