from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from treu.commerce import services
from treu.commerce.models import Category, Product, Shop, ShopKind


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("code",)

    code = "online"
    name = "Onlineshop"
    kind = ShopKind.SHOPIFY


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = "Kaffeebohnen"
    slug = "kaffeebohnen"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Espresso Nr. {n}")
    category = factory.SubFactory(CategoryFactory)
    price_cents = 1490
    tax_rate_bp = 700
    is_consumable = True
    reorder_interval_days = 30


_order_seq = iter(range(1, 10**9))


def make_order(
    *,
    customer=None,
    shop=None,
    lines=((1, 1490, 700),),
    shipping_cents: int = 0,
    discount_cents: int = 0,
    placed_at=None,
    external_id: str | None = None,
    status: str = "paid",
    delivered_at=None,
):
    """Ingest a valid order through the service; lines are (quantity, unit cents, VAT bp)."""
    shop = shop or ShopFactory()
    line_inputs = [
        services.LineInput(
            title=f"Artikel {i}", sku=f"T-{i}", quantity=q, unit_price_cents=p, tax_rate_bp=t
        )
        for i, (q, p, t) in enumerate(lines, start=1)
    ]
    total = sum(li.total_cents for li in line_inputs) + shipping_cents - discount_cents
    n = next(_order_seq)
    placed_at = placed_at or timezone.now() - timedelta(days=1)
    return services.ingest_order(
        services.OrderInput(
            shop=shop,
            external_id=external_id or f"T{n}",
            number=f"#{1000 + n}",
            customer_id=customer.pk if customer else None,
            placed_at=placed_at,
            lines=line_inputs,
            shipping_cents=shipping_cents,
            discount_cents=discount_cents,
            total_cents=total,
            status=status,
            delivered_at=delivered_at,
        )
    ).order
