"""Reads of the connectors app: the connection list and page, and a connection's set-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from treu.commerce import selectors as commerce_selectors
from treu.connectors.models import PLATFORMS, DeliveryStatus, InboundDelivery, ShopConnection
from treu.connectors.platforms import platform


def connection_for_hook(platform_name: str, shop_code: str) -> ShopConnection | None:
    """The active connection a webhook URL names; None for unknown, inactive or wrong system."""
    return (
        ShopConnection.objects.select_related("shop")
        .filter(shop__code=shop_code, shop__kind=platform_name, active=True)
        .first()
    )


@dataclass(frozen=True)
class ShopRow:
    shop: object
    connection: ShopConnection | None
    failed_recently: int
    can_connect: bool


def connection_list() -> list[ShopRow]:
    """Every shop, with its connection and the deliveries that failed in the last 7 days."""
    since = timezone.now() - timedelta(days=7)
    connections = {
        c.shop_id: c
        for c in ShopConnection.objects.annotate(
            failed=Count(
                "deliveries",
                filter=Q(
                    deliveries__status=DeliveryStatus.FAILED, deliveries__received_at__gte=since
                ),
            )
        )
    }
    rows = []
    for shop in commerce_selectors.shops():
        connection = connections.get(shop.pk)
        rows.append(
            ShopRow(
                shop=shop,
                connection=connection,
                failed_recently=getattr(connection, "failed", 0),
                can_connect=connection is None and shop.kind in PLATFORMS,
            )
        )
    return rows


def connection_detail(connection_id: int) -> ShopConnection:
    return ShopConnection.objects.select_related("shop").get(pk=connection_id)


def recent_deliveries(connection: ShopConnection, *, limit: int = 50) -> QuerySet:
    return InboundDelivery.objects.filter(connection=connection).defer("body")[:limit]


def delivery_of(connection: ShopConnection, delivery_id: int) -> InboundDelivery:
    return InboundDelivery.objects.get(connection=connection, pk=delivery_id)


@dataclass(frozen=True)
class Setup:
    """What to enter in the shop system's admin."""

    webhook_url: str
    topics: tuple[str, ...]
    registration_url: str = ""  # Shopware only
    app_name: str = ""  # Shopware only


def setup_for(connection: ShopConnection, *, base_url: str) -> Setup:
    module = platform(connection.platform)
    code = connection.shop.code
    url = base_url + reverse("hooks:receive", args=[connection.platform, code])
    if module is not None and module.NAME == "shopware":
        return Setup(
            webhook_url=url,
            topics=module.SUBSCRIBE,
            registration_url=base_url + reverse("hooks:shopware_register", args=[code]),
            app_name=module.APP_NAME,
        )
    return Setup(webhook_url=url, topics=module.SUBSCRIBE if module else ())
