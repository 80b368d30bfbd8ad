"""The rewards catalogue and redeeming a reward (services.rewards)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.core import events, privacy
from treu.core.models import DomainEvent
from treu.customers import services as customer_services
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors, services
from treu.loyalty.codes import CODE_ALPHABET, normalise_code
from treu.loyalty.events import COUPON_ISSUED, REWARD_REDEEMED
from treu.loyalty.models import (
    Coupon,
    CreditEntry,
    EntryKind,
    Member,
    PartnerCode,
    PointsEntry,
    Redemption,
    Reward,
)
from treu.loyalty.tests.conftest import (
    REWARD_DEFAULTS,
    assert_sums_match_ledger,
    give_points,
    make_reward,
)

pytestmark = pytest.mark.django_db


# -- The catalogue ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(REWARD_DEFAULTS))
def test_it_keeps_a_reward_of_every_kind(program, kind):
    reward = make_reward(kind)
    assert Reward.objects.get(pk=reward.pk).kind == kind


@pytest.mark.parametrize(
    ("kind", "missing", "field"),
    [
        ("fixed_amount", {"amount_cents": None}, "amount_cents"),
        ("store_credit", {"amount_cents": 0}, "amount_cents"),
        ("percent", {"percent": 0}, "percent"),
        ("percent", {"percent": 101}, "percent"),
        ("percent", {"max_discount_cents": 0}, "max_discount_cents"),
        ("free_product", {"product_sku": " "}, "product_sku"),
        ("experience", {"seats": None}, "seats"),
        ("partner", {"partner_name": ""}, "partner_name"),
    ],
)
def test_it_refuses_a_reward_without_what_its_kind_needs(program, kind, missing, field):
    with pytest.raises(services.LoyaltyError) as refused:
        make_reward(kind, **missing)
    assert field in refused.value.message_dict
    assert not Reward.objects.exists()


def test_it_refuses_rewards_with_german_field_errors(program, settings):
    settings.LANGUAGE_CODE = "de"
    now = timezone.now()
    with pytest.raises(services.LoyaltyError) as refused:
        services.save_reward(
            name="",
            kind="percent",
            points_cost=0,
            percent=150,
            available_from=now,
            available_until=now - timedelta(days=1),
        )
    errors = refused.value.message_dict
    assert set(errors) >= {"name", "points_cost", "percent", "available_until"}
    assert errors["percent"] == ["Geben Sie einen Prozentsatz zwischen 1 und 100 an."]
    assert errors["available_until"] == ["Das Ende muss nach dem Beginn liegen."]


def test_changing_the_kind_leaves_no_stale_value_behind(program):
    reward = make_reward("percent")
    changed = services.save_reward(reward=reward, kind="fixed_amount", amount_cents=300)
    changed.refresh_from_db()
    assert (changed.percent, changed.max_discount_cents, changed.amount_cents) == (None, None, 300)


def test_an_event_cannot_shrink_below_the_seats_taken(program, rich_anna):
    reward = make_reward("experience", seats=3)
    services.redeem_reward(member=rich_anna, reward=reward)
    services.redeem_reward(member=rich_anna, reward=reward)
    with pytest.raises(services.LoyaltyError) as refused:
        services.save_reward(reward=reward, seats=1)
    assert "seats" in refused.value.message_dict
    assert services.save_reward(reward=reward, seats=2).seats == 2


def test_partner_codes_are_added_once_each(program):
    reward = make_reward("partner")
    assert services.add_partner_codes(reward=reward, text="KORN-1\nKORN-2, KORN-3;KORN-2\n\n") == 3
    assert services.add_partner_codes(reward=reward, text="KORN-3\nKORN-4") == 1
    assert PartnerCode.objects.filter(reward=reward).count() == 4


def test_it_refuses_codes_for_rewards_that_are_no_partner_perk(program):
    with pytest.raises(services.LoyaltyError) as refused:
        services.add_partner_codes(reward=make_reward("perk"), text="X")
    assert "codes" in refused.value.message_dict
    with pytest.raises(services.LoyaltyError):
        services.add_partner_codes(reward=make_reward("partner"), text=" \n ")


# -- Redeeming --------------------------------------------------------------------------------


def test_redeeming_takes_the_points_and_issues_a_single_use_coupon(program, rich_anna):
    reward = make_reward("fixed_amount", points_cost=250, amount_cents=500, coupon_valid_days=30)
    now = timezone.now().replace(microsecond=0)
    redemption = services.redeem_reward(member=rich_anna, reward=reward, now=now)
    coupon = redemption.coupon
    assert redemption.entry.points == -250 and redemption.entry.kind == EntryKind.REDEEM
    assert (coupon.kind, coupon.amount_cents, coupon.used_at) == ("fixed_amount", 500, None)
    assert coupon.expires_at == now + timedelta(days=30)  # no change of summer time between
    assert len(coupon.code) == 14 and set(coupon.code.replace("-", "")) <= set(CODE_ALPHABET)
    assert_sums_match_ledger(rich_anna)
    assert rich_anna.points_balance == 750


def test_a_coupon_expires_after_calendar_days_in_berlin(program, rich_anna):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    before_summer_time = datetime(2026, 3, 20, 12, 0, tzinfo=berlin)
    reward = make_reward(coupon_valid_days=14)
    coupon = services.redeem_reward(member=rich_anna, reward=reward, now=before_summer_time).coupon
    assert coupon.expires_at == datetime(2026, 4, 3, 12, 0, tzinfo=berlin)  # noon, +02:00
    elapsed = coupon.expires_at.astimezone(UTC) - before_summer_time.astimezone(UTC)
    assert elapsed == timedelta(days=14, hours=-1)


def test_coupon_codes_differ_and_read_forgivingly(program, rich_anna):
    reward = make_reward(points_cost=10)
    codes = {services.redeem_reward(member=rich_anna, reward=reward).coupon.code for _ in range(20)}
    assert len(codes) == 20
    code = codes.pop()
    assert normalise_code(code.lower().replace("-", " ")) == code


def test_store_credit_goes_to_its_own_ledger_without_a_coupon(program, rich_anna):
    reward = make_reward("store_credit", amount_cents=1250)
    redemption = services.redeem_reward(member=rich_anna, reward=reward)
    rich_anna.refresh_from_db()
    assert rich_anna.credit_cents == 1250 == selectors.credit_sum(rich_anna.pk)
    assert redemption.credit.cents == 1250
    assert not Coupon.objects.exists()


def test_redeeming_publishes_its_events_for_the_timeline(program, rich_anna, anna):
    services.redeem_reward(member=rich_anna, reward=make_reward("free_shipping", name="Versand"))
    redeemed = DomainEvent.objects.get(kind=REWARD_REDEEMED)
    issued = DomainEvent.objects.get(kind=COUPON_ISSUED)
    assert redeemed.customer_id == issued.customer_id == anna.pk
    assert redeemed.payload["points"] == 100 and redeemed.payload["reward"] == "Versand"
    assert issued.payload["code"] == Coupon.objects.get().code
    assert "Versand" in events.describe(redeemed).title
    assert Coupon.objects.get().code in events.describe(issued).title


def test_it_refuses_more_points_than_available_and_writes_nothing(program, anna_member):
    give_points(anna_member, 99)
    with pytest.raises(services.LoyaltyError) as refused:
        services.redeem_reward(member=anna_member, reward=make_reward("experience"))
    assert "99" in refused.value.messages[0]
    assert not Redemption.objects.exists() and not Coupon.objects.exists()
    assert Reward.objects.get().seats_taken == 0


@pytest.mark.parametrize(
    "window",
    [
        {"active": False},
        {"available_from": timezone.now() + timedelta(days=1)},
        {"available_until": timezone.now() - timedelta(days=1)},
    ],
)
def test_it_refuses_a_reward_that_is_not_on_offer(program, rich_anna, window):
    reward = make_reward(**window)
    with pytest.raises(services.LoyaltyError) as refused:
        services.redeem_reward(member=rich_anna, reward=reward)
    assert "reward" in refused.value.message_dict
    assert not Redemption.objects.exists()
    assert not rich_anna.entries.filter(kind=EntryKind.REDEEM).exists()


def test_it_keeps_the_limit_per_member(program, rich_anna, ben):
    reward = make_reward(limit_per_member=2)
    services.redeem_reward(member=rich_anna, reward=reward)
    services.redeem_reward(member=rich_anna, reward=reward)
    with pytest.raises(services.LoyaltyError) as refused:
        services.redeem_reward(member=rich_anna, reward=reward)
    assert "2" in refused.value.messages[0]
    other = give_points(services.join_program(customer=ben), 100)
    services.redeem_reward(member=other, reward=reward)  # the limit is per member
    assert Redemption.objects.count() == 3


def test_an_event_is_never_oversold(program, rich_anna, settings):
    settings.LANGUAGE_CODE = "de"
    reward = make_reward("experience", seats=2)
    services.redeem_reward(member=rich_anna, reward=reward)
    services.redeem_reward(member=rich_anna, reward=reward)
    with pytest.raises(services.LoyaltyError) as refused:
        services.redeem_reward(member=rich_anna, reward=reward)
    assert refused.value.messages == [
        "Diese Veranstaltung ist ausgebucht: Es sind keine Plätze mehr frei."
    ]
    reward.refresh_from_db()
    assert (reward.seats_taken, reward.seats_left) == (2, 0)
    rich_anna.refresh_from_db()
    assert rich_anna.points_balance == 800  # the refused third took nothing


def test_each_partner_code_is_handed_out_once_then_it_says_so(program, rich_anna, settings):
    settings.LANGUAGE_CODE = "de"
    reward = make_reward("partner", partner_name="Bäckerei Korn")
    services.add_partner_codes(reward=reward, text="KORN-1\nKORN-2")
    first = services.redeem_reward(member=rich_anna, reward=reward).coupon
    second = services.redeem_reward(member=rich_anna, reward=reward).coupon
    assert {first.detail_code, second.detail_code} == {"KORN-1", "KORN-2"}
    with pytest.raises(services.LoyaltyError) as refused:
        services.redeem_reward(member=rich_anna, reward=reward)
    assert refused.value.messages == [
        "Bäckerei Korn hat keine Gutscheine mehr; diese Prämie kann gerade nicht eingelöst werden."
    ]
    assert not PartnerCode.objects.filter(handed_out_at__isnull=True).exists()


def test_a_perk_shows_its_access_code_with_the_coupon(program, rich_anna):
    coupon = services.redeem_reward(member=rich_anna, reward=make_reward("perk")).coupon
    assert coupon.detail_code == "VORVERKAUF"


def test_a_redemption_key_redeems_once(program, rich_anna):
    reward = make_reward(points_cost=300)
    first = services.redeem_reward(member=rich_anna, reward=reward, key="kasse-17")
    again = services.redeem_reward(member=rich_anna, reward=reward, key="kasse-17")
    assert first.pk == again.pk
    assert Coupon.objects.count() == 1
    rich_anna.refresh_from_db()
    assert rich_anna.points_balance == 700


def test_a_key_used_for_another_member_is_refused_with_a_reason(program, rich_anna):
    reward = make_reward(points_cost=300)
    services.redeem_reward(member=rich_anna, reward=reward, key="kasse-17")
    ben = give_points(services.join_program(customer=CustomerFactory()), 1000)
    with pytest.raises(services.LoyaltyError) as refused:
        services.redeem_reward(member=ben, reward=reward, key="kasse-17")
    assert "key" in refused.value.message_dict
    ben.refresh_from_db()
    assert ben.points_balance == 1000 and Redemption.objects.count() == 1


def test_it_refuses_an_overlong_key(program, rich_anna):
    with pytest.raises(services.LoyaltyError):
        services.redeem_reward(member=rich_anna, reward=make_reward(), key="k" * 91)


# -- Merging and erasure ----------------------------------------------------------------------


def test_merging_customers_moves_coupons_and_store_credit(program, rich_anna, anna):
    duplicate = CustomerFactory()
    dup = give_points(services.join_program(customer=duplicate), 200)
    services.redeem_reward(member=dup, reward=make_reward("store_credit", amount_cents=700))
    services.redeem_reward(member=dup, reward=make_reward())
    customer_services.merge_customers(survivor=anna, duplicate=duplicate)
    kept = Member.objects.get(customer=anna)
    assert kept.credit_cents == 700 == selectors.credit_sum(kept.pk)
    assert Coupon.objects.get().member == kept
    assert Redemption.objects.filter(member=kept).count() == 2
    assert_sums_match_ledger(kept)


def test_erasing_a_customer_deletes_redemptions_coupons_and_credit(program, rich_anna, anna):
    from treu.loyalty.services import consume_coupon, release_order_rewards, spend_store_credit

    services.redeem_reward(member=rich_anna, reward=make_reward("store_credit"))
    coupon = services.redeem_reward(member=rich_anna, reward=make_reward()).coupon
    consume_coupon(code=coupon.code, basket_cents=2000, shop="online", order_external_id="1")
    spend_store_credit(member=rich_anna, cents=300, shop="online", order_external_id="1")
    release_order_rewards(shop="online", order_external_id="1")
    exported = privacy.export_customer(anna)
    assert coupon.code in str(exported)
    privacy.erase_customer(anna)
    for model in (Member, PointsEntry, Redemption, Coupon, CreditEntry):
        assert not model.objects.exists(), model


def test_resetting_the_demo_removes_redemptions_coupons_and_credit(program, rich_anna):
    from treu.demo.generator import reset_demo
    from treu.loyalty.services import release_order_rewards, spend_store_credit

    services.redeem_reward(member=rich_anna, reward=make_reward("store_credit"))
    services.redeem_reward(member=rich_anna, reward=make_reward())
    spend_store_credit(member=rich_anna, cents=100, shop="online", order_external_id="1")
    release_order_rewards(shop="online", order_external_id="1")
    reset_demo()
    for model in (Member, PointsEntry, Redemption, Coupon, CreditEntry):
        assert not model.objects.exists(), model
    assert Reward.objects.count() == 2  # the catalogue belongs to no customer
