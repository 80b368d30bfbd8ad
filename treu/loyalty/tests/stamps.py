"""Helpers of the stamp card tests: a coffee card, orders with SKUs, the reconciliation."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Sum
from django.utils import timezone

from treu.commerce import services as commerce
from treu.commerce.tests.factories import ShopFactory
from treu.loyalty import services
from treu.loyalty.models import Member, StampCard, StampCardType, StampEntry, StampVoucher

COFFEE, CAKE, BEANS = "KAFFEE-1", "KUCHEN-1", "BOHNEN-1"

_seq = iter(range(1, 10**9))


def coffee_card(**fields) -> StampCardType:
    values = {
        "name": "Kaffeekarte",
        "stamps_needed": 10,
        "skus": [COFFEE],
        "reward_sku": COFFEE,
        "reward_description": "1 Kaffee gratis",
        "voucher_valid_days": 90,
        "valid_from": date(2020, 1, 1),
        **fields,
    }
    return services.save_stamp_card_type(**values)


def order_with(customer, *lines: tuple[str, int], days_ago: int = 1, status: str = "paid"):
    """Ingest an order of (sku, quantity) lines at 3,00 € a unit."""
    inputs = [
        commerce.LineInput(title=sku, sku=sku, quantity=q, unit_price_cents=300, tax_rate_bp=700)
        for sku, q in lines
    ]
    return commerce.ingest_order(
        commerce.OrderInput(
            shop=ShopFactory(),
            external_id=f"S{next(_seq)}",
            customer_id=customer.pk if customer else None,
            placed_at=timezone.now() - timedelta(days=days_ago),
            status=status,
            lines=inputs,
            total_cents=sum(li.total_cents for li in inputs),
        )
    ).order


def give_back(order, sku: str, quantity: int):
    line = order.lines.get(sku=sku)
    return commerce.record_return(
        order, lines=[commerce.ReturnLineInput(order_line_id=line.pk, quantity=quantity)]
    )


def card_of(member: Member, card_type: StampCardType) -> StampCard | None:
    return StampCard.objects.filter(member=member, card_type=card_type).first()


def assert_stamps_reconcile(member: Member, card_type: StampCardType) -> None:
    """The ledger sum equals the stamps on the card plus those turned into vouchers."""
    ledger = StampEntry.objects.filter(member=member, card_type=card_type).aggregate(
        s=Sum("stamps")
    )["s"]
    card = card_of(member, card_type)
    on_vouchers = StampVoucher.objects.filter(member=member, card_type=card_type).aggregate(
        s=Sum("stamps")
    )["s"]
    assert (ledger or 0) == (card.stamps if card else 0) + (on_vouchers or 0)
    if card is not None:
        assert card.stamps >= 0
        assert card.cards_filled == StampVoucher.objects.filter(card=card).count()
