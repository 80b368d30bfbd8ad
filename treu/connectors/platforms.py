"""The shop systems treu takes webhooks from, by their commerce.ShopKind value."""

from __future__ import annotations

from types import ModuleType

from treu.connectors import shopify, shopware, woocommerce

PLATFORMS: dict[str, ModuleType] = {
    shopify.NAME: shopify,
    woocommerce.NAME: woocommerce,
    shopware.NAME: shopware,
}


def platform(name: str) -> ModuleType | None:
    return PLATFORMS.get(name)
