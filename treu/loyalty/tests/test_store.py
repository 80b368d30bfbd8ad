"""The till's services: bookings exactly once per key, and the 5-minute undo with its limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.commerce.models import Order, OrderStatus, Shop, ShopKind
from treu.commerce.tests.factories import ShopFactory
from treu.loyalty import selectors, services, store_selectors
from treu.loyalty.models import (
    Coupon,
    CreditKind,
    EntryStatus,
    MemberCard,
    PointsEntry,
    Redemption,
    StampCard,
    StampEntry,
    StampVoucher,
    TillAction,
    TillSettings,
)
from treu.loyalty.services import LoyaltyError
from treu.loyalty.tests.conftest import assert_sums_match_ledger, make_reward
from treu.loyalty.tests.stamps import coffee_card

pytestmark = pytest.mark.django_db

KEY = "k" * 20


def _key(n: int) -> str:
    return f"key-{n:016d}"


@pytest.fixture
def store(program):
    shop = ShopFactory(code="laden", name="Laden am Markt", kind=ShopKind.POS, is_store=True)
    services.update_till_settings(shop=shop, tax_rate_bp=700)
    return shop


def _buy(member, cashier, cents=2350, key=KEY, after_commit=None, **kw):
    if after_commit is None:
        return services.record_store_purchase(
            member=member, amount_cents=cents, staff_user=cashier, key=key, **kw
        )
    with after_commit():
        return services.record_store_purchase(
            member=member, amount_cents=cents, staff_user=cashier, key=key, **kw
        )


# -- Purchases ---------------------------------------------------------------------------------


def test_a_store_purchase_is_an_order_of_the_store_that_earns_pending_points(
    store, anna_member, cashier, after_commit
):
    action, created = _buy(anna_member, cashier, after_commit=after_commit)
    assert created
    order = Order.objects.get(pk=action.order_id)
    assert (order.shop, order.customer_id, order.total_cents) == (
        store,
        anna_member.customer_id,
        2350,
    )
    assert order.status == OrderStatus.DELIVERED and order.number.startswith("Kasse-")
    line = order.lines.get()
    assert (line.quantity, line.unit_price_cents, line.tax_rate_bp) == (1, 2350, 700)
    assert order.tax_cents == 154  # 7 % of 23,50 € gross
    entries = PointsEntry.objects.filter(order=order)
    assert sum(e.points for e in entries) == 23
    assert {e.status for e in entries} == {EntryStatus.PENDING}
    anna_member.refresh_from_db()
    assert anna_member.pending_points == 23
    anna_member.customer.refresh_from_db()
    assert anna_member.customer.total_spent_cents == 2350  # revenue and spend see it


def test_the_same_key_books_a_purchase_once(store, anna_member, cashier, after_commit):
    first, _ = _buy(anna_member, cashier, after_commit=after_commit)
    again, created = _buy(anna_member, cashier, cents=9999, after_commit=after_commit)
    assert not created and again.pk == first.pk
    assert Order.objects.count() == 1
    anna_member.refresh_from_db()
    assert anna_member.pending_points == 23


def test_a_key_of_another_member_is_refused(store, anna_member, ben, cashier):
    other = services.join_program(customer=ben)
    _buy(anna_member, cashier)
    with pytest.raises(LoyaltyError, match="anderes Mitglied"):
        _buy(other, cashier)


@pytest.mark.parametrize("cents", [0, -5, 10_000_01])
def test_it_refuses_amounts_out_of_range(store, anna_member, cashier, cents):
    with pytest.raises(LoyaltyError) as refused:
        _buy(anna_member, cashier, cents=cents)
    assert "amount" in refused.value.message_dict
    assert not Order.objects.exists() and not TillAction.objects.exists()


def test_it_refuses_a_purchase_without_a_store(program, anna_member, cashier):
    with pytest.raises(LoyaltyError, match="kein Laden"):
        _buy(anna_member, cashier)
    assert not Order.objects.exists()


def test_the_only_store_is_used_without_settings(program, anna_member, cashier):
    ShopFactory()  # the online shop does not count
    shop = ShopFactory(code="laden", name="Laden", kind=ShopKind.POS, is_store=True)
    action, _ = _buy(anna_member, cashier)
    assert action.order.shop == shop


def test_it_refuses_a_booking_without_staff_or_key(store, anna_member, cashier):
    with pytest.raises(LoyaltyError) as refused:
        services.record_store_purchase(
            member=anna_member, amount_cents=100, staff_user=None, key=""
        )
    assert set(refused.value.message_dict) == {"key", "staff_user"}


def test_settings_create_a_store_by_name_and_refuse_an_online_shop(program):
    online = ShopFactory()
    with pytest.raises(LoyaltyError, match="Onlineshop"):
        services.update_till_settings(shop=online, tax_rate_bp=1900)
    with pytest.raises(LoyaltyError):
        services.update_till_settings(shop=None, tax_rate_bp=1900)
    with pytest.raises(LoyaltyError):
        services.update_till_settings(shop=None, tax_rate_bp=1234, new_store_name="Laden")
    settings = services.update_till_settings(
        shop=None, tax_rate_bp=700, new_store_name="Rösterei am Markt"
    )
    assert settings.shop.code == "rosterei-am-markt" and settings.shop.is_store
    assert settings.shop.kind == ShopKind.POS
    again = services.update_till_settings(
        shop=None, tax_rate_bp=700, new_store_name="Rösterei am Markt"
    )
    assert again.shop.code == "rosterei-am-markt-2"
    assert TillSettings.objects.count() == 1 and Shop.objects.count() == 3


# -- Undoing a purchase ------------------------------------------------------------------------


def test_undo_cancels_the_order_and_takes_its_points_back(
    store, anna_member, cashier, after_commit
):
    action, _ = _buy(anna_member, cashier, after_commit=after_commit)
    with after_commit():
        services.undo_till_action(action=action, staff_user=cashier)
    action.refresh_from_db()
    assert action.undone_at is not None and action.undone_by == cashier
    assert Order.objects.get().status == OrderStatus.CANCELLED
    anna_member.refresh_from_db()
    assert anna_member.pending_points == 0
    assert_sums_match_ledger(anna_member)
    with pytest.raises(LoyaltyError, match="bereits um"):
        services.undo_till_action(action=action, staff_user=cashier)


def test_undo_is_refused_after_five_minutes(store, anna_member, cashier, after_commit):
    action, _ = _buy(anna_member, cashier, after_commit=after_commit)
    later = action.created_at + timedelta(minutes=5, seconds=1)
    with pytest.raises(LoyaltyError, match="5 Minuten"):
        services.undo_till_action(action=action, staff_user=cashier, now=later)
    assert Order.objects.get().status != OrderStatus.CANCELLED
    just_in_time = action.created_at + timedelta(minutes=5)
    services.undo_till_action(action=action, staff_user=cashier, now=just_in_time)


def test_another_cashier_may_not_undo_but_the_owner_may(
    store, anna_member, cashier, owner, after_commit
):
    from django.contrib.auth.models import Group, User

    colleague = User.objects.create_user("kasse2")
    colleague.groups.add(Group.objects.get(name="Kasse"))
    action, _ = _buy(anna_member, cashier, after_commit=after_commit)
    with pytest.raises(LoyaltyError, match="Nur wer gebucht hat"):
        services.undo_till_action(action=action, staff_user=colleague)
    services.undo_till_action(action=action, staff_user=owner)


def test_only_the_members_last_booking_can_be_undone(store, anna_member, cashier, after_commit):
    first, _ = _buy(anna_member, cashier, key=_key(1), after_commit=after_commit)
    _buy(anna_member, cashier, key=_key(2), after_commit=after_commit)
    with pytest.raises(LoyaltyError, match="letzte Buchung"):
        services.undo_till_action(action=first, staff_user=cashier)


def test_undo_is_refused_when_the_purchase_points_were_spent(
    program, store, anna_member, cashier, after_commit
):
    services.update_program_settings(return_window_days=0)  # available at once
    action, _ = _buy(anna_member, cashier, cents=50000, after_commit=after_commit)
    anna_member.refresh_from_db()
    assert anna_member.points_balance == 500
    services.redeem_points(member=anna_member, points=400, reason="Test")
    with pytest.raises(LoyaltyError, match="schon eingelöst"):
        services.undo_till_action(action=action, staff_user=cashier)
    assert Order.objects.get().status != OrderStatus.CANCELLED


# -- Stamps ------------------------------------------------------------------------------------


def test_stamps_at_the_till_once_per_key_and_undone_by_a_ledger_row(program, anna_member, cashier):
    card_type = coffee_card()
    action, created = services.give_store_stamps(
        member=anna_member, card_type=card_type, count=3, staff_user=cashier, key=KEY
    )
    again, created_again = services.give_store_stamps(
        member=anna_member, card_type=card_type, count=3, staff_user=cashier, key=KEY
    )
    assert created and not created_again and again.pk == action.pk
    card = StampCard.objects.get()
    assert card.stamps == 3
    services.undo_till_action(action=action, staff_user=cashier)
    card.refresh_from_db()
    assert card.stamps == 0
    reversal = StampEntry.objects.get(kind="reverse")
    assert (reversal.stamps, reversal.cause, reversal.staff_user) == (-3, "undo", cashier)
    assert StampEntry.objects.count() == 2  # append-only: the stamps' row stays


def test_stamps_that_filled_a_card_cannot_be_undone(program, anna_member, cashier):
    card_type = coffee_card(stamps_needed=5)
    action, _ = services.give_store_stamps(
        member=anna_member, card_type=card_type, count=6, staff_user=cashier, key=KEY
    )
    assert action.cards_filled == 1
    with pytest.raises(LoyaltyError, match="Gutschein ist ausgestellt"):
        services.undo_till_action(action=action, staff_user=cashier)
    assert StampVoucher.objects.count() == 1 and StampCard.objects.get().stamps == 1


def test_stamps_taken_back_since_cannot_be_undone(program, anna_member, cashier, shop):
    from treu.loyalty.tests.stamps import COFFEE, order_with

    card_type = coffee_card()
    order = order_with(anna_member.customer, (COFFEE, 2))
    services.award_stamps_for_orders([order.pk])
    action, _ = services.give_store_stamps(
        member=anna_member, card_type=card_type, count=2, staff_user=cashier, key=KEY
    )
    from treu.commerce import services as commerce

    commerce.cancel_order(order)
    services.settle_order_stamps(order.pk, cause=f"cancel:{order.pk}")
    card = StampCard.objects.get()
    assert card.stamps == 2
    # Still two on the card: the undo takes them; the ledger keeps adding up.
    services.undo_till_action(action=action, staff_user=cashier)
    card.refresh_from_db()
    assert card.stamps == 0


def test_stamps_refused_by_add_stamps_write_no_booking(program, anna_member, cashier):
    card_type = coffee_card()
    with pytest.raises(LoyaltyError):
        services.give_store_stamps(
            member=anna_member, card_type=card_type, count=51, staff_user=cashier, key=KEY
        )
    assert not TillAction.objects.exists() and not StampEntry.objects.exists()


# -- Redemptions -------------------------------------------------------------------------------


def test_a_redemption_undone_voids_the_coupon_and_gives_the_points_back(
    rich_anna, cashier, after_commit
):
    reward = make_reward("fixed_amount", points_cost=300, limit_per_member=1)
    action, _ = services.redeem_at_till(
        member=rich_anna, reward=reward, staff_user=cashier, key=KEY
    )
    coupon = Coupon.objects.get()
    rich_anna.refresh_from_db()
    assert rich_anna.points_balance == 700
    services.undo_till_action(action=action, staff_user=cashier)
    coupon.refresh_from_db()
    assert coupon.voided_at is not None and coupon.used_at is None
    assert coupon.refusal(now=timezone.now())[0] == "voided"
    assert Redemption.objects.get().cancelled_at is not None
    rich_anna.refresh_from_db()
    assert rich_anna.points_balance == 1000
    assert_sums_match_ledger(rich_anna)
    refund = PointsEntry.objects.get(source_rule=services.TILL_UNDO)
    assert (refund.points, refund.staff_user) == (300, cashier)
    assert not selectors.open_coupons(rich_anna, timezone.now())
    # The undone redemption does not count against the limit of one.
    services.redeem_at_till(member=rich_anna, reward=reward, staff_user=cashier, key=_key(2))


def test_a_voided_coupon_is_refused_at_checkout(rich_anna, cashier):
    reward = make_reward("fixed_amount", points_cost=300)
    action, _ = services.redeem_at_till(
        member=rich_anna, reward=reward, staff_user=cashier, key=KEY
    )
    services.undo_till_action(action=action, staff_user=cashier)
    with pytest.raises(services.CouponRefused) as refused:
        services.consume_coupon(
            code=Coupon.objects.get().code, basket_cents=5000, shop="online", order_external_id="1"
        )
    assert refused.value.reason == "voided"


def test_undo_is_refused_once_the_coupon_was_used(rich_anna, cashier):
    reward = make_reward("fixed_amount", points_cost=300)
    action, _ = services.redeem_at_till(
        member=rich_anna, reward=reward, staff_user=cashier, key=KEY
    )
    coupon = Coupon.objects.get()
    services.consume_coupon(
        code=coupon.code, basket_cents=5000, shop="laden", order_external_id="7"
    )
    with pytest.raises(LoyaltyError, match="schon eingelöst"):
        services.undo_till_action(action=action, staff_user=cashier)
    coupon.refresh_from_db()
    assert coupon.voided_at is None
    rich_anna.refresh_from_db()
    assert rich_anna.points_balance == 700


def test_store_credit_undone_is_taken_back_unless_spent(rich_anna, cashier):
    reward = make_reward("store_credit", points_cost=200, amount_cents=1000)
    action, _ = services.redeem_at_till(
        member=rich_anna, reward=reward, staff_user=cashier, key=KEY
    )
    services.spend_store_credit(member=rich_anna, cents=1, shop="laden", order_external_id="1")
    with pytest.raises(LoyaltyError, match="schon ausgegeben"):
        services.undo_till_action(action=action, staff_user=cashier)
    services.release_order_rewards(shop="laden", order_external_id="1")
    services.undo_till_action(action=action, staff_user=cashier)
    rich_anna.refresh_from_db()
    assert rich_anna.credit_cents == 0 and rich_anna.points_balance == 1000
    assert rich_anna.credit_entries.filter(kind=CreditKind.REVOKE, cents=-1000).exists()
    assert selectors.credit_sum(rich_anna.pk) == 0


def test_an_event_seat_is_given_back_and_a_partner_code_is_not(rich_anna, cashier):
    event = make_reward("experience", points_cost=100, seats=1)
    action, _ = services.redeem_at_till(member=rich_anna, reward=event, staff_user=cashier, key=KEY)
    services.undo_till_action(action=action, staff_user=cashier)
    event.refresh_from_db()
    assert event.seats_taken == 0
    partner = make_reward("partner", points_cost=100)
    services.add_partner_codes(reward=partner, text="P-1")
    action, _ = services.redeem_at_till(
        member=rich_anna, reward=partner, staff_user=cashier, key=_key(2)
    )
    with pytest.raises(LoyaltyError, match="Partners"):
        services.undo_till_action(action=action, staff_user=cashier)


def test_a_refused_redemption_writes_no_booking(anna_member, cashier):
    reward = make_reward("fixed_amount", points_cost=300)
    with pytest.raises(LoyaltyError, match="Nicht genug"):
        services.redeem_at_till(member=anna_member, reward=reward, staff_user=cashier, key=KEY)
    assert not TillAction.objects.exists()


# -- Member cards and finding members ----------------------------------------------------------


def test_a_member_card_is_issued_once_and_replaced_with_a_new_code(anna_member, cashier):
    card = services.issue_member_card(member=anna_member, staff_user=cashier)
    assert services.issue_member_card(member=anna_member, staff_user=cashier).code == card.code
    assert len(card.code) == 19 and card.code.count("-") == 3
    new = services.issue_member_card(member=anna_member, staff_user=cashier, replace=True)
    assert new.code != card.code and MemberCard.objects.count() == 1
    assert store_selectors.find_members(card.code).members == []
    assert store_selectors.find_members(new.code.lower().replace("-", " ")).members == [anna_member]


@pytest.mark.parametrize(
    "typed", ["{number}", "#{number}", "K{number:06d}", "ANNA.MUELLER@example.de", "müll", "Anna M"]
)
def test_a_member_is_found_by_number_email_or_name(anna_member, typed):
    found = store_selectors.find_members(typed.format(number=anna_member.customer.number))
    assert found.members == [anna_member]


def test_a_customer_who_is_not_a_member_is_found_as_such(program, ben):
    found = store_selectors.find_members(ben.email)
    assert found.members == [] and found.customer == ben
    assert store_selectors.find_members("nobody@example.de") == store_selectors.Lookup()


def test_a_qr_code_encodes_the_card_code_only(anna_member, cashier):
    card = services.issue_member_card(member=anna_member, staff_user=cashier)
    svg = store_selectors.card_qr_svg(card.code)
    assert svg.startswith("<svg") and "viewBox" in svg
    assert str(anna_member.customer.number) not in card.code


# -- Undo and tiers ----------------------------------------------------------------------------


def _tiers(basis="spend"):
    services.update_tier_settings(basis=basis, period="rolling", notice_days=30)
    silver = services.save_tier(name="Silber", rank=1, threshold=2_000 if basis == "spend" else 20)
    gold = services.save_tier(name="Gold", rank=2, threshold=5_000 if basis == "spend" else 50)
    return silver, gold


def _state(member):
    from treu.loyalty.models import MemberTier

    return MemberTier.objects.select_related("tier").get(member=member)


def test_undo_takes_back_the_tier_the_purchase_alone_brought(
    store, anna_member, cashier, after_commit
):
    from treu.core.models import DomainEvent
    from treu.loyalty.events import TIER_CHANGED

    _tiers()
    action, _ = _buy(anna_member, cashier, cents=2_500, after_commit=after_commit)
    assert _state(anna_member).tier.name == "Silber"
    with after_commit():
        services.undo_till_action(action=action, staff_user=cashier)
    state = _state(anna_member)
    assert state.tier is None and state.held_until is None
    last = DomainEvent.objects.filter(kind=TIER_CHANGED).order_by("-id").first()
    assert last.payload["from_tier"] == "Silber" and last.payload["to_tier"] is None
    assert last.payload["cause"] == "undo" and last.payload["direction"] == "down"


def test_undo_gives_back_the_earlier_tier_with_its_period_and_notice(
    store, anna_member, anna, shop, cashier, after_commit
):
    from treu.commerce.tests.factories import make_order

    _tiers()
    with after_commit():
        make_order(customer=anna, shop=shop, lines=((1, 3_000, 700),))
    before = _state(anna_member)
    assert before.tier.name == "Silber"
    action, _ = _buy(anna_member, cashier, cents=2_500, after_commit=after_commit)
    assert _state(anna_member).tier.name == "Gold"
    with after_commit():
        services.undo_till_action(action=action, staff_user=cashier)
    after = _state(anna_member)
    assert after.tier == before.tier
    assert (after.held_until, after.notice_for) == (before.held_until, before.notice_for)


def test_undo_keeps_a_tier_that_another_order_since_has_earned(
    store, anna_member, anna, shop, cashier, after_commit
):
    from treu.commerce.tests.factories import make_order

    _tiers()
    action, _ = _buy(anna_member, cashier, cents=2_500, after_commit=after_commit)
    with after_commit():  # online, in the same minutes: enough for Silber on its own
        make_order(customer=anna, shop=shop, lines=((1, 2_600, 700),))
    assert _state(anna_member).tier.name == "Gold"
    with after_commit():
        services.undo_till_action(action=action, staff_user=cashier)
    assert _state(anna_member).tier.name == "Silber"


def test_undo_takes_back_a_tier_by_points_once_the_points_are_gone(
    store, anna_member, cashier, after_commit
):
    _tiers(basis="points")
    action, _ = _buy(anna_member, cashier, cents=6_000, after_commit=after_commit)
    assert _state(anna_member).tier.name == "Gold"
    with after_commit():
        services.undo_till_action(action=action, staff_user=cashier)
    anna_member.refresh_from_db()
    assert _state(anna_member).tier is None
    assert_sums_match_ledger(anna_member)


def test_undo_leaves_a_tier_staff_assigned_since(store, anna_member, cashier, after_commit):
    _, gold = _tiers()
    action, _ = _buy(anna_member, cashier, cents=2_500, after_commit=after_commit)
    services.assign_tier(member=anna_member, tier=gold, reason="Stammgast", staff_user=cashier)
    with after_commit():
        services.undo_till_action(action=action, staff_user=cashier)
    assert _state(anna_member).tier == gold
