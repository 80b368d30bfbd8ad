from __future__ import annotations

from treu.commerce.models import Category, Order, OrderLine, Product, Return, Shop
from treu.core import privacy

RETENTION = "§147 AO, §257 HGB: Buchungsbelege 10 Jahre; an einen anonymisierten Kunden gebunden."

privacy.register(
    Order,
    customer="customer",
    fields=[
        "number",
        "shop__name",
        "status",
        "placed_at",
        "total_cents",
        "tax_cents",
        "shipping_cents",
        "discount_cents",
        "refunded_cents",
        "delivered_at",
    ],  # fmt: skip
    erasure=privacy.Erasure.KEEP,
    retention=RETENTION,
)
privacy.register(
    OrderLine,
    customer="order__customer",
    fields=["order__number", "sku", "title", "quantity", "total_cents"],
    erasure=privacy.Erasure.KEEP,
    retention=RETENTION,
)
privacy.register(
    Return,
    customer="order__customer",
    fields=["order__number", "reason", "comment", "amount_cents", "refunded_at"],
    erasure=privacy.Erasure.ANONYMISE,
    anonymise={"comment": ""},
    retention=RETENTION,
)
for model in (Shop, Category, Product):
    privacy.not_personal(model, reason="Catalogue and sales channel names, not about a person.")
