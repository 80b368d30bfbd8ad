"""Rewards reserved for tiers: refused with the reason, offered only where they may be taken."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures
from treu.api.tests.fixtures import errors_at
from treu.loyalty import selectors, services
from treu.loyalty.models import Coupon, Redemption
from treu.loyalty.tests.conftest import give_points, make_reward

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers(program):
    services.update_tier_settings(basis="spend", period="rolling", notice_days=30)
    return {
        name: services.save_tier(name=name, rank=rank, threshold=threshold)
        for rank, (name, threshold) in enumerate(
            (("Bronze", 0), ("Silber", 10_000), ("Gold", 50_000)), 1
        )
    }


@pytest.fixture
def staff(db):
    return User.objects.create_user("chefin")


@pytest.fixture
def gold_only(tiers):
    return make_reward("perk", name="Vorverkauf", points_cost=100, eligible_tiers=[tiers["Gold"]])


def put_in(member, tier, staff):
    services.assign_tier(member=member, tier=tier, reason="Test", staff_user=staff)


def test_a_reward_for_gold_members_is_refused_to_others_with_the_reason(
    rich_anna, gold_only, tiers, staff
):
    put_in(rich_anna, tiers["Silber"], staff)
    with pytest.raises(services.LoyaltyError) as refused:
        services.redeem_reward(member=rich_anna, reward=gold_only)
    assert refused.value.message_dict["reward"] == [
        "Diese Prämie ist Gold-Mitgliedern vorbehalten."
    ]
    rich_anna.refresh_from_db()
    assert rich_anna.points_balance == 1000 and not Redemption.objects.exists()


def test_a_member_without_any_tier_is_refused_too(rich_anna, gold_only):
    with pytest.raises(services.LoyaltyError):
        services.redeem_reward(member=rich_anna, reward=gold_only)
    assert not Coupon.objects.exists()


def test_a_gold_member_redeems_it(rich_anna, gold_only, tiers, staff):
    put_in(rich_anna, tiers["Gold"], staff)
    redemption = services.redeem_reward(member=rich_anna, reward=gold_only)
    assert redemption.coupon.detail_code == "VORVERKAUF"


def test_several_tiers_are_named_in_the_reason(rich_anna, tiers, staff):
    reward = make_reward(eligible_tiers=[tiers["Gold"], tiers["Silber"]])
    put_in(rich_anna, tiers["Bronze"], staff)
    with pytest.raises(services.LoyaltyError) as refused:
        services.redeem_reward(member=rich_anna, reward=reward)
    assert refused.value.message_dict["reward"] == [
        "Diese Prämie ist Silber- oder Gold-Mitgliedern vorbehalten."
    ]
    put_in(rich_anna, tiers["Silber"], staff)
    assert services.redeem_reward(member=rich_anna, reward=reward).points == 100


def test_a_reward_without_tiers_is_open_to_every_member(rich_anna, tiers):
    reward = make_reward()
    assert services.redeem_reward(member=rich_anna, reward=reward).points == 100


def test_changing_a_reward_keeps_its_tiers_unless_given(tiers, gold_only):
    services.save_reward(reward=gold_only, name="Vorverkauf Herbst")
    assert list(gold_only.eligible_tiers.all()) == [tiers["Gold"]]
    services.save_reward(reward=gold_only, eligible_tiers=[])
    assert not gold_only.eligible_tiers.exists()


def test_the_offer_for_a_member_holds_only_what_their_tier_may_take(
    anna_member, ben, gold_only, tiers, staff
):
    open_to_all = make_reward(name="5 € Rabatt", points_cost=200)
    now = timezone.now()
    assert list(selectors.rewards_on_offer(now, member=anna_member)) == [open_to_all]
    put_in(anna_member, tiers["Gold"], staff)
    assert list(selectors.rewards_on_offer(now, member=anna_member)) == [gold_only, open_to_all]
    assert list(selectors.rewards_on_offer(now)) == [gold_only, open_to_all]  # the catalogue


def test_a_member_moved_down_after_redeeming_keeps_the_coupon(
    rich_anna, gold_only, tiers, staff, shop
):
    put_in(rich_anna, tiers["Gold"], staff)
    coupon = services.redeem_reward(member=rich_anna, reward=gold_only).coupon
    put_in(rich_anna, tiers["Bronze"], staff)
    assert [c.code for c in selectors.open_coupons(rich_anna, timezone.now())] == [coupon.code]
    with pytest.raises(services.LoyaltyError):  # a second one needs Gold again
        services.redeem_reward(member=rich_anna, reward=gold_only)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.tuples(st.sampled_from([None, "Bronze", "Silber", "Gold"]),
                                st.booleans()), min_size=1, max_size=8))  # fmt: skip
def test_redeeming_follows_the_tier_of_the_moment_and_coupons_outlive_it(
    anna_member, tiers, staff, steps
):
    """Tier changes between redemptions: each attempt passes exactly when the member is
    Silber or Gold at that moment, and every coupon issued stays open whatever follows."""
    member = give_points(anna_member, 10_000)
    member.refresh_from_db()
    balance = member.points_balance  # hypothesis runs every example on the same database
    reward = make_reward(eligible_tiers=[tiers["Silber"], tiers["Gold"]], points_cost=10)
    issued = []
    for tier_name, attempt in steps:
        put_in(member, tiers[tier_name] if tier_name else None, staff)
        if not attempt:
            continue
        state = member.tier_state
        state.refresh_from_db()
        allowed = state.tier is not None and state.tier.name in ("Silber", "Gold")
        try:
            issued.append(services.redeem_reward(member=member, reward=reward).coupon.code)
        except services.LoyaltyError as refused:
            assert not allowed, refused.message_dict
        else:
            assert allowed
    open_codes = {c.code for c in selectors.open_coupons(member, timezone.now())}
    assert set(issued) <= open_codes
    member.refresh_from_db()
    assert member.points_balance == balance - 10 * len(issued)


# -- Pages --------------------------------------------------------------------------------------


def test_marketing_reserves_a_reward_for_tiers_in_the_form(client_of, marketer, tiers):
    data = {
        "name": "Röstkurs", "kind": "free_shipping", "points_cost": "800", "active": "on",
        "coupon_valid_days": "60", "eligible_tiers": [tiers["Gold"].pk, tiers["Silber"].pk],
    }  # fmt: skip
    client = client_of(marketer)
    assert 'name="eligible_tiers"' in client.get(reverse("loyalty:reward_create")).content.decode()
    response = client.post(reverse("loyalty:reward_create"), data)
    assert response.status_code == 302
    reward = selectors.reward_list().get(name="Röstkurs")
    assert {t.name for t in reward.eligible_tiers.all()} == {"Silber", "Gold"}
    page = client.get(reverse("loyalty:reward_list")).content.decode()
    assert '<span class="badge">Silber</span> <span class="badge">Gold</span>' in page


def test_the_member_page_offers_only_what_the_member_may_redeem(
    client_of, marketer, rich_anna, gold_only, tiers, staff
):
    make_reward(name="5 € Rabatt")
    client = client_of(marketer)
    url = reverse("loyalty:member_detail", args=[rich_anna.pk])
    page = client.get(url).content.decode()
    assert "5 € Rabatt" in page and "Vorverkauf" not in page
    put_in(rich_anna, tiers["Gold"], staff)
    assert "Vorverkauf (100) · nur Gold" in client.get(url).content.decode()


def test_a_stale_member_page_hears_why_the_reward_is_refused(
    client_of, marketer, rich_anna, gold_only
):
    url = reverse("loyalty:member_redeem", args=[rich_anna.pk])
    response = client_of(marketer).post(url, {"reward": gold_only.pk})
    assert response.status_code == 400
    assert "Diese Prämie ist Gold-Mitgliedern vorbehalten." in response.content.decode()
    assert not Redemption.objects.exists()


# -- API ----------------------------------------------------------------------------------------


@pytest.fixture
def till(api_as, make_key):
    return api_as(make_key(scopes=["checkout"]).secret)


def test_the_till_sees_which_tiers_a_reward_is_for_and_what_a_member_may_take(
    till, anna, anna_member, gold_only, tiers, staff, django_assert_num_queries
):
    make_reward(name="5 € Rabatt", points_cost=200)
    listed = till.get("/checkout/rewards").json()
    assert [(r["name"], r["eligible_tiers"]) for r in listed] == [
        ("Vorverkauf", ["Gold"]),
        ("5 € Rabatt", []),
    ]
    mine = till.get(f"/checkout/rewards?customer_number={anna.number}").json()
    assert [r["name"] for r in mine] == ["5 € Rabatt"]
    put_in(anna_member, tiers["Gold"], staff)
    # key, rate window (two statements), member with customer, rewards, their tiers
    with django_assert_num_queries(6):
        mine = till.get(f"/checkout/rewards?customer_number={anna.number}").json()
    assert [r["name"] for r in mine] == ["Vorverkauf", "5 € Rabatt"]
    assert till.get(f"/checkout/members/{anna.number}").json()["tier"] == "Gold"


def test_the_rewards_of_an_unknown_member_are_a_404(till, program):
    response = till.get("/checkout/rewards?customer_number=999999")
    assert response.status_code == 404
    assert errors_at(response, "query", "customer_number")


def test_the_till_is_refused_a_reserved_reward_with_the_reason(till, rich_anna, anna, gold_only):
    url = f"/checkout/members/{anna.number}/redemptions"
    response = till.post(url, {"reward_id": gold_only.pk})
    assert response.status_code == 422
    assert errors_at(response, "body", "reward_id") == [
        "Diese Prämie ist Gold-Mitgliedern vorbehalten."
    ]
