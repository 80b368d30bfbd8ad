"""Stamp cards: card types, stamps for orders and in the store, take-backs, vouchers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from treu.commerce import services as commerce
from treu.commerce.tests.factories import CategoryFactory, ProductFactory
from treu.core import events, privacy
from treu.core.models import DomainEvent
from treu.customers import services as customer_services
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import Member, StampCard, StampEntry, StampEntryKind, StampVoucher
from treu.loyalty.stamp_events import STAMP_ADDED, STAMP_CARD_FULL
from treu.loyalty.tests.conftest import start_program
from treu.loyalty.tests.stamps import (
    BEANS,
    CAKE,
    COFFEE,
    assert_stamps_reconcile,
    card_of,
    coffee_card,
    give_back,
    order_with,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(program):
    return coffee_card()


@pytest.fixture
def staff(db):
    return User.objects.create_user("kasse-1")


def _order(after_commit, customer, *lines, **kwargs):
    with after_commit():
        return order_with(customer, *lines, **kwargs)


# -- Card types -------------------------------------------------------------------------------


def test_it_refuses_a_card_type_without_anything_that_earns_stamps(program):
    with pytest.raises(services.LoyaltyError) as refused:
        coffee_card(skus=" , ", stamps_needed=0, valid_until=date(2019, 1, 1))
    errors = refused.value.message_dict
    assert {"skus", "stamps_needed", "valid_until"} <= set(errors)
    assert not StampCard.objects.exists()


def test_skus_are_cleaned_and_categories_count_too(program):
    beans = CategoryFactory()
    card_type = coffee_card(skus="B-2, A-1;A-1  C-3", categories=[beans])
    assert card_type.skus == ["A-1", "B-2", "C-3"]
    assert list(card_type.categories.all()) == [beans]


# -- Online orders ----------------------------------------------------------------------------


def test_one_stamp_per_qualifying_unit_of_an_ingested_order(card, anna_member, anna, after_commit):
    _order(after_commit, anna, (COFFEE, 3), (CAKE, 2))
    assert card_of(anna_member, card).stamps == 3
    entry = StampEntry.objects.get(member=anna_member)
    assert (entry.kind, entry.stamps, entry.key.startswith("stamp:line:")) == ("purchase", 3, True)
    assert_stamps_reconcile(anna_member, card)


def test_a_product_in_a_stamped_category_earns_by_its_sku(program, anna_member, anna, after_commit):
    beans = CategoryFactory()
    ProductFactory(sku=BEANS, category=beans)
    card_type = coffee_card(skus=[], categories=[beans])
    _order(after_commit, anna, (BEANS, 2), (COFFEE, 5))
    assert card_of(anna_member, card_type).stamps == 2


def test_the_same_order_awarded_twice_stamps_once(card, anna_member, anna, after_commit):
    order = _order(after_commit, anna, (COFFEE, 4))
    event = DomainEvent.objects.get(kind="order.ingested", payload__order_id=order.pk)
    with after_commit():
        events.dispatch(event)
    assert services.award_stamps_for_orders([order.pk, order.pk]) == 0
    assert card_of(anna_member, card).stamps == 4
    assert StampEntry.objects.count() == 1


def test_a_full_card_turns_into_a_voucher_and_the_next_card_keeps_the_overflow(
    card, anna_member, anna, after_commit
):
    _order(after_commit, anna, (COFFEE, 8))
    _order(after_commit, anna, (COFFEE, 25))
    current = card_of(anna_member, card)
    assert (current.stamps, current.cards_filled) == (3, 3)
    vouchers = list(StampVoucher.objects.filter(member=anna_member))
    assert len(vouchers) == 3 and len({v.code for v in vouchers}) == 3
    assert {(v.stamps, v.reward_sku, v.reward_description) for v in vouchers} == {
        (10, COFFEE, "1 Kaffee gratis")
    }
    # Valid through the 90th day, to midnight in Berlin.
    expires = timezone.localtime(vouchers[0].expires_at)
    assert expires.date() == timezone.localdate() + timedelta(days=91)
    assert (expires.hour, expires.minute) == (0, 0)
    kinds = list(DomainEvent.objects.filter(customer=anna).values_list("kind", flat=True))
    assert kinds.count(STAMP_CARD_FULL) == 3 and kinds.count(STAMP_ADDED) == 2
    assert_stamps_reconcile(anna_member, card)


def test_a_batch_of_orders_is_stamped_in_a_fixed_number_of_queries(program, after_commit):
    card_type = coffee_card(stamps_needed=3)
    customers = [CustomerFactory() for _ in range(3)]
    for c in customers:
        services.join_program(customer=c, now=timezone.now() - timedelta(days=30))

    def batch(n):
        return [
            commerce.OrderInput(
                shop=order.shop,
                external_id=f"B{n}-{i}",
                customer_id=customers[i % 3].pk,
                placed_at=timezone.now() - timedelta(hours=2),
                lines=[commerce.LineInput(title="K", sku=COFFEE, quantity=2, unit_price_cents=300)],
                total_cents=600,
            )
            for i in range(n)
        ]

    order = order_with(None, (COFFEE, 1))
    small, large = batch(3), [replace(o, external_id=f"L{o.external_id}") for o in batch(30)]
    counts = []
    for orders in (small, large):
        ids = [r.order.pk for r in commerce.ingest_orders(orders)]
        with CaptureQueriesContext(connection) as queries:
            services.award_stamps_for_orders(ids)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    member = Member.objects.get(customer=customers[0])
    assert_stamps_reconcile(member, card_type)
    # 3 + 30 orders of 2 stamps over three members: 22 stamps each, 7 vouchers and 1 left.
    assert (card_of(member, card_type).stamps, card_of(member, card_type).cards_filled) == (1, 7)


def test_no_card_type_costs_one_query(program, anna_member, anna):
    order = order_with(anna, (COFFEE, 1))
    with CaptureQueriesContext(connection) as queries:
        assert services.award_stamps_for_orders([order.pk]) == 0
    assert len(queries) == 1


def test_guests_non_members_cancelled_and_out_of_window_orders_earn_nothing(
    program, anna, ben, after_commit
):
    card_type = coffee_card(valid_from=timezone.localdate() - timedelta(days=5))
    services.join_program(customer=anna, now=timezone.now() - timedelta(days=30))
    _order(after_commit, None, (COFFEE, 2))
    _order(after_commit, ben, (COFFEE, 2))  # not a member
    _order(after_commit, anna, (COFFEE, 2), status="cancelled")
    _order(after_commit, anna, (COFFEE, 2), days_ago=10)  # before the card ran
    assert not StampEntry.objects.exists()
    assert not StampCard.objects.filter(card_type=card_type).exists()


def test_when_everyone_is_a_member_the_first_stamped_order_makes_one(anna, after_commit):
    start_program(membership="all")
    card_type = coffee_card()
    order = order_with(anna, (COFFEE, 2))
    Member.objects.all().delete()  # as if the points subscriber had not run yet
    assert services.award_stamps_for_orders([order.pk]) == 2
    assert card_of(Member.objects.get(customer=anna), card_type).stamps == 2


# -- Taking back ------------------------------------------------------------------------------


def test_returned_units_take_back_their_stamps_once(card, anna_member, anna, after_commit):
    order = _order(after_commit, anna, (COFFEE, 5))
    with after_commit():
        give_back(order, COFFEE, 2)
    assert card_of(anna_member, card).stamps == 3
    # The same return reported twice (a replayed event, the catch-up) takes nothing twice.
    assert services.settle_order_stamps(order.pk, cause="again") == 0
    with after_commit():
        give_back(order, COFFEE, 3)
    assert card_of(anna_member, card).stamps == 0
    back = StampEntry.objects.filter(kind=StampEntryKind.REVERSE)
    assert sorted(e.stamps for e in back) == [-3, -2] and {e.cause for e in back} == {"return"}
    assert_stamps_reconcile(anna_member, card)


def test_a_cancelled_order_takes_back_all_its_stamps(card, anna_member, anna, after_commit):
    _order(after_commit, anna, (COFFEE, 2))
    order = _order(after_commit, anna, (COFFEE, 4))
    with after_commit():
        commerce.cancel_order(order)
    assert card_of(anna_member, card).stamps == 2
    assert StampEntry.objects.get(kind=StampEntryKind.REVERSE).cause == "cancellation"


def test_stamps_already_on_a_voucher_stay_there_and_are_recorded_as_not_recovered(
    card, anna_member, anna, after_commit
):
    order = _order(after_commit, anna, (COFFEE, 12))
    assert card_of(anna_member, card).stamps == 2
    with after_commit():
        commerce.cancel_order(order)
    reversal = StampEntry.objects.get(kind=StampEntryKind.REVERSE)
    assert (reversal.stamps, reversal.unrecovered) == (-2, 10)
    assert card_of(anna_member, card).stamps == 0
    voucher = StampVoucher.objects.get(member=anna_member)
    assert voucher.redeemed_at is None  # the voucher stays valid
    services.redeem_stamp_voucher(code=voucher.code, staff_user=None)
    assert_stamps_reconcile(anna_member, card)


def test_lines_the_shop_replaced_lose_their_stamps_and_new_lines_earn(
    card, anna_member, anna, after_commit
):
    order = _order(after_commit, anna, (COFFEE, 3))
    data = commerce.OrderInput(
        shop=order.shop,
        external_id=order.external_id,
        customer_id=anna.pk,
        placed_at=order.placed_at,
        lines=[commerce.LineInput(title="K", sku=COFFEE, quantity=5, unit_price_cents=300)],
        total_cents=1500,
    )
    with after_commit():
        commerce.ingest_order(data)
    assert card_of(anna_member, card).stamps == 5
    assert StampEntry.objects.get(kind=StampEntryKind.REVERSE).cause == "order_changed"
    assert_stamps_reconcile(anna_member, card)


def test_a_status_change_costs_one_query_for_stamps(card, anna_member, anna, after_commit):
    order = _order(after_commit, anna, (COFFEE, 3))
    with CaptureQueriesContext(connection) as queries:
        assert services.follow_order_stamp_changes({order.pk: "update:1"}) == 0
    assert len(queries) == 2  # the order's stamp rows, then its current lines


def test_the_catch_up_stamps_orders_and_returns_whose_events_were_lost(
    card, anna_member, anna, after_commit
):
    since = timezone.now() - timedelta(hours=3)
    order_with(anna, (COFFEE, 4))  # its event never reached the subscribers
    kept = _order(after_commit, anna, (COFFEE, 2))
    give_back(kept, COFFEE, 1)  # nor did this return's
    assert card_of(anna_member, card).stamps == 2
    assert services.catch_up_stamps(since=since) == 4 - 1
    assert services.catch_up_stamps(since=since) == 0
    assert card_of(anna_member, card).stamps == 5
    assert_stamps_reconcile(anna_member, card)


# -- In the store -----------------------------------------------------------------------------


def test_stamps_in_the_store_fill_cards_and_are_audited(card, anna_member, staff, after_commit):
    with after_commit():
        result = services.add_stamps(member=anna_member, card_type=card, count=12, staff_user=staff)
    assert (result.card.stamps, len(result.vouchers)) == (2, 1)
    assert (result.entry.kind, result.entry.staff_user) == (StampEntryKind.STORE, staff)
    assert DomainEvent.objects.filter(kind=STAMP_CARD_FULL).count() == 1
    assert_stamps_reconcile(anna_member, card)


def test_the_same_till_key_adds_stamps_once(card, anna_member, staff):
    for _ in range(2):
        services.add_stamps(member=anna_member, card_type=card, count=3, staff_user=staff, key="t1")
    assert card_of(anna_member, card).stamps == 3


@pytest.mark.parametrize("count", [0, -1, 51])
def test_it_refuses_a_count_out_of_range(card, anna_member, staff, count):
    with pytest.raises(services.LoyaltyError) as refused:
        services.add_stamps(member=anna_member, card_type=card, count=count, staff_user=staff)
    assert "count" in refused.value.message_dict
    assert not StampEntry.objects.exists()


def test_it_refuses_stamps_for_a_card_that_is_not_running_or_without_staff(
    program, anna_member, staff
):
    ended = coffee_card(valid_until=timezone.localdate() - timedelta(days=1))
    with pytest.raises(services.LoyaltyError) as refused:
        services.add_stamps(member=anna_member, card_type=ended, count=1, staff_user=None)
    assert {"card_type", "staff_user"} <= set(refused.value.message_dict)
    assert not StampEntry.objects.exists()


# -- Vouchers ---------------------------------------------------------------------------------


def _voucher(card, member, staff) -> StampVoucher:
    return services.add_stamps(member=member, card_type=card, count=10, staff_user=staff).vouchers[
        0
    ]


def test_a_voucher_is_redeemed_once_by_its_code_however_typed(card, anna_member, staff):
    voucher = _voucher(card, anna_member, staff)
    typed = voucher.code.replace("-", " ").lower()
    redeemed = services.redeem_stamp_voucher(code=typed, staff_user=staff)
    assert redeemed.pk == voucher.pk
    voucher.refresh_from_db()
    assert voucher.redeemed_at is not None and voucher.redeemed_by == staff
    with pytest.raises(services.LoyaltyError, match="bereits am"):
        services.redeem_stamp_voucher(code=voucher.code, staff_user=staff)


def test_it_refuses_unknown_and_expired_vouchers(card, anna_member, staff):
    voucher = _voucher(card, anna_member, staff)
    with pytest.raises(services.LoyaltyError, match="Kein Stempelgutschein"):
        services.redeem_stamp_voucher(code="ZZZZZ-ZZZZZ", staff_user=staff)
    later = voucher.expires_at + timedelta(seconds=1)
    with pytest.raises(services.LoyaltyError, match="abgelaufen"):
        services.redeem_stamp_voucher(code=voucher.code, staff_user=staff, now=later)
    voucher.refresh_from_db()
    assert voucher.redeemed_at is None


# -- Timeline, merging, privacy -------------------------------------------------------------


def test_the_timeline_tells_the_stamp_story(card, anna_member, anna, staff, settings):
    settings.LANGUAGE_CODE = "de"
    services.add_stamps(member=anna_member, card_type=card, count=11, staff_user=staff)
    entries = [events.describe(e) for e in DomainEvent.objects.filter(kind__startswith="loyalty.s")]
    titles = {e.title for e in entries}
    assert "11 Stempel auf Kaffeekarte" in titles
    assert "Stempelkarte Kaffeekarte voll" in titles


def test_merging_two_members_adds_their_cards_and_moves_vouchers(card, anna_member, anna, staff):
    ben_like = CustomerFactory()
    other = services.join_program(customer=ben_like)
    services.add_stamps(member=anna_member, card_type=card, count=7, staff_user=staff)
    services.add_stamps(member=other, card_type=card, count=15, staff_user=staff)
    customer_services.merge_customers(survivor=anna, duplicate=ben_like)
    member = Member.objects.get(customer=anna)
    assert (card_of(member, card).stamps, card_of(member, card).cards_filled) == (2, 2)
    assert StampVoucher.objects.filter(member=member).count() == 2
    assert_stamps_reconcile(member, card)


def test_erasing_a_customer_deletes_their_stamps(card, anna_member, anna, staff):
    services.add_stamps(member=anna_member, card_type=card, count=12, staff_user=staff)
    exported = privacy.export_customer(anna)
    assert {"loyalty.StampCard", "loyalty.StampEntry", "loyalty.StampVoucher"} <= set(exported)
    privacy.erase_customer(anna)
    assert not StampEntry.objects.exists() and not StampVoucher.objects.exists()
