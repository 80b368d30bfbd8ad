"""Writes to the catalogue and the sales channels: products and shops."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from treu.commerce.models import Product, Shop


class ProductRejected(ValidationError):
    """A catalogue entry that is not valid; messages per field."""


@transaction.atomic
def save_product(product: Product) -> Product:
    product.full_clean()
    product.save()
    return product


PRODUCT_FIELDS = (
    "name", "category", "price_cents", "tax_rate_bp", "is_consumable",
    "reorder_interval_days", "active",
)  # fmt: skip


@transaction.atomic
def upsert_product(*, sku: str, **fields) -> tuple[Product, bool]:
    """Create or update a product by SKU; returns (product, created). Validates before writing."""
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"Not a product field: {sorted(unknown)}")
    sku = sku.strip()
    product = Product.objects.select_for_update().filter(sku=sku).first()
    created = product is None
    if created:
        product = Product(sku=sku)
    for name, value in fields.items():
        setattr(product, name, value)
    try:
        product.full_clean(validate_unique=created)
    except ValidationError as exc:
        raise ProductRejected(exc.message_dict) from None
    product.save()
    return product, created


class ShopRejected(ValidationError):
    """A sales channel that cannot be created; messages per field."""


@transaction.atomic
def create_shop(*, code: str, name: str, kind: str, is_store: bool = False) -> Shop:
    """Add a sales channel (online shop or store). Validates before writing."""
    shop = Shop(code=code.strip().lower(), name=name.strip(), kind=kind, is_store=is_store)
    try:
        shop.full_clean()
    except ValidationError as exc:
        raise ShopRejected(exc.message_dict) from None
    shop.save()
    return shop
