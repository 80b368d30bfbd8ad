"""Tiers: qualifying, moving up at once and down at period end, VIPs, progress, earning."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone, translation

from treu.commerce import services as commerce
from treu.commerce.tests.factories import make_order
from treu.core.models import DomainEvent
from treu.loyalty import services, tier_selectors
from treu.loyalty.events import TIER_CHANGED, TIER_DOWNGRADE_NOTICE
from treu.loyalty.models import EntryKind, MemberTier, TierAssignment
from treu.loyalty.tests.conftest import assert_sums_match_ledger


@pytest.fixture
def tiers(program):
    services.update_tier_settings(basis="spend", period="rolling", notice_days=30)
    return {
        "Silber": services.save_tier(name="Silber", rank=1, threshold=10_000),
        "Gold": services.save_tier(
            name="Gold", rank=2, threshold=50_000, earning_multiplier=Decimal("2")
        ),
        "VIP": services.save_tier(name="VIP", rank=3, invite_only=True),
    }


@pytest.fixture
def staff(db):
    return User.objects.create_user("chefin")


def tier_of(member) -> str | None:
    state = MemberTier.objects.filter(member=member).select_related("tier").first()
    return state.tier.name if state and state.tier else None


def test_a_member_moves_up_as_soon_as_an_order_qualifies(
    tiers, anna_member, anna, shop, after_commit
):
    with after_commit():
        make_order(customer=anna, shop=shop, lines=((1, 15_000, 700),))
    assert tier_of(anna_member) == "Silber"
    event = DomainEvent.objects.get(kind=TIER_CHANGED)
    assert event.payload["to_tier"] == "Silber" and event.payload["direction"] == "up"
    with after_commit():
        make_order(customer=anna, shop=shop, lines=((1, 40_000, 700),))
    assert tier_of(anna_member) == "Gold"


def test_spend_counts_after_refunds_and_without_cancelled_orders(tiers, anna_member, anna, shop):
    big = make_order(customer=anna, shop=shop, lines=((1, 60_000, 700),))
    commerce.cancel_order(big)
    kept = make_order(customer=anna, shop=shop, lines=((2, 6_000, 700),))
    commerce.record_return(
        kept,
        lines=[commerce.ReturnLineInput(order_line_id=kept.lines.get().pk, quantity=1)],
    )
    settings = tier_selectors.tier_settings()
    values = tier_selectors.qualifying_values(
        settings, now=timezone.now(), members={anna.pk: anna_member.pk}
    )
    assert values == {anna_member.pk: 6_000}
    services.recompute_tiers()
    assert tier_of(anna_member) is None


def test_orders_outside_the_window_do_not_count(tiers, anna_member, anna, shop):
    make_order(
        customer=anna, shop=shop, lines=((1, 60_000, 700),),
        placed_at=timezone.now() - timedelta(days=400),
    )  # fmt: skip
    services.recompute_tiers()
    assert tier_of(anna_member) is None


def test_a_downgrade_waits_for_the_period_end_and_is_announced_once(tiers, anna_member, anna, shop):
    now = timezone.now()
    make_order(
        customer=anna, shop=shop, lines=((1, 60_000, 700),), placed_at=now - timedelta(days=200)
    )
    services.recompute_tiers(now=now)
    held = MemberTier.objects.get(member=anna_member).held_until
    assert tier_of(anna_member) == "Gold" and held > now + timedelta(days=360)

    # The order left the window long before the period ends: still Gold, no notice yet.
    services.recompute_tiers(now=held - timedelta(days=60))
    assert tier_of(anna_member) == "Gold"
    assert not DomainEvent.objects.filter(kind=TIER_DOWNGRADE_NOTICE).exists()

    for _ in range(2):  # the nightly job on the first day of the notice period
        result = services.recompute_tiers(now=held - timedelta(days=30))
    assert tier_of(anna_member) == "Gold" and result.notices == 0
    notice = DomainEvent.objects.get(kind=TIER_DOWNGRADE_NOTICE)
    assert notice.payload["from_tier"] == "Gold" and notice.payload["to_tier"] is None
    assert notice.payload["on"] == timezone.localdate(held).isoformat()

    result = services.recompute_tiers(now=held + timedelta(minutes=1))
    assert result.downgraded == 1 and tier_of(anna_member) is None
    last = DomainEvent.objects.filter(kind=TIER_CHANGED).latest("id")
    assert last.payload["direction"] == "down"


def test_qualifying_again_keeps_the_tier_for_another_period(tiers, anna_member, anna, shop):
    now = timezone.now()
    earlier = now - timedelta(days=150)
    make_order(customer=anna, shop=shop, lines=((1, 60_000, 700),), placed_at=earlier)
    services.recompute_tiers(now=earlier + timedelta(hours=1))
    first = MemberTier.objects.get(member=anna_member).held_until
    make_order(customer=anna, shop=shop, lines=((1, 60_000, 700),))
    services.recompute_tiers(now=now)
    assert MemberTier.objects.get(member=anna_member).held_until > first


def test_a_calendar_year_tier_holds_through_the_following_year(tiers, anna_member, anna, shop):
    services.update_tier_settings(basis="spend", period="calendar", notice_days=30)
    make_order(customer=anna, shop=shop, lines=((1, 60_000, 700),))
    now = timezone.now()
    if timezone.localtime(now).timetuple().tm_yday == 1:
        pytest.skip("the order of 'yesterday' is in last year")
    services.recompute_tiers(now=now)
    held = MemberTier.objects.get(member=anna_member).held_until
    assert timezone.localtime(held).replace(tzinfo=None) == datetime(  # noqa: DTZ001
        timezone.localtime(now).year + 2, 1, 1
    )


def test_points_can_be_the_measure(tiers, anna_member, anna, shop, after_commit):
    services.update_tier_settings(basis="points", period="rolling", notice_days=14)
    services.save_tier(tier=tiers["Silber"], name="Silber", rank=1, threshold=100)
    with after_commit():
        make_order(customer=anna, shop=shop, lines=((1, 12_000, 700),))  # 120 Bohnen
    assert tier_of(anna_member) == "Silber"


def test_a_gold_member_earns_with_the_tier_multiplier(tiers, anna_member, anna, shop, staff):
    services.assign_tier(member=anna_member, tier=tiers["Gold"], reason="Test", staff_user=staff)
    order = make_order(customer=anna, shop=shop, lines=((1, 1_490, 700),))
    assert services.award_points_for_orders([order.pk]) == 29  # 14.9 × 2, rounded once
    assert anna_member.entries.filter(kind=EntryKind.EARN, order=order).count() == 1
    assert_sums_match_ledger(anna_member)


def test_staff_assign_the_vip_tier_with_a_reason_and_it_stays(tiers, anna_member, staff):
    with pytest.raises(services.LoyaltyError) as refused:
        services.assign_tier(member=anna_member, tier=tiers["VIP"], reason=" ", staff_user=staff)
    assert "reason" in refused.value.message_dict
    services.assign_tier(
        member=anna_member, tier=tiers["VIP"], reason="Stammkundin seit 1998", staff_user=staff
    )
    services.recompute_tiers()
    assert tier_of(anna_member) == "VIP"
    audit = TierAssignment.objects.get()
    assert (audit.staff_user, audit.reason, audit.tier) == (
        staff,
        "Stammkundin seit 1998",
        tiers["VIP"],
    )
    assert DomainEvent.objects.get(kind=TIER_CHANGED).payload["cause"] == "staff"


def test_removing_an_assignment_hands_the_member_back_to_the_rules(
    tiers, anna_member, anna, shop, staff
):
    make_order(customer=anna, shop=shop, lines=((1, 15_000, 700),))
    services.assign_tier(member=anna_member, tier=tiers["VIP"], reason="Event", staff_user=staff)
    state = services.assign_tier(member=anna_member, tier=None, reason="Ende", staff_user=staff)
    assert state.tier == tiers["Silber"] and not state.pinned
    assert TierAssignment.objects.count() == 2


def test_the_vip_rule_takes_the_top_percent_by_lifetime_spend(tiers, anna_member, anna, ben, shop):
    ben_member = services.join_program(customer=ben)
    make_order(customer=anna, shop=shop, lines=((1, 90_000, 700),))
    make_order(customer=ben, shop=shop, lines=((1, 20_000, 700),))
    services.update_tier_settings(
        basis="spend", period="rolling", notice_days=30, vip_top_percent=Decimal("50")
    )
    services.recompute_tiers()
    assert (tier_of(anna_member), tier_of(ben_member)) == ("VIP", "Silber")


def test_a_partial_recompute_leaves_rule_vips_alone(tiers, anna_member, anna, shop):
    make_order(customer=anna, shop=shop, lines=((1, 90_000, 700),))
    services.update_tier_settings(
        basis="spend", period="rolling", notice_days=30, vip_top_percent=Decimal("10")
    )
    services.recompute_tiers()
    services.recompute_tiers(member_ids=[anna_member.pk])
    assert tier_of(anna_member) == "VIP"


def test_a_higher_tier_needs_a_higher_threshold(tiers):
    with pytest.raises(services.LoyaltyError) as refused:
        services.save_tier(name="Platin", rank=4, threshold=20_000)
    assert "threshold" in refused.value.message_dict
    with pytest.raises(services.LoyaltyError) as refused:
        services.save_tier(name="Gold", rank=5, threshold=90_000)
    assert "name" in refused.value.message_dict


def test_progress_says_what_is_missing_to_the_next_tier(tiers, anna_member, anna, shop):
    make_order(customer=anna, shop=shop, lines=((1, 5_800, 700),))
    with translation.override("de"):
        progress = tier_selectors.tier_progress(anna_member)
    assert (progress.tier, progress.next_tier, progress.missing) == (None, tiers["Silber"], 4_200)
    assert progress.text == "noch 42,00\xa0€ bis Silber"
    services.recompute_tiers()
    make_order(customer=anna, shop=shop, lines=((1, 5_000, 700),))
    services.recompute_tiers()
    progress = tier_selectors.tier_progress(anna_member)
    assert (progress.tier, progress.next_tier, progress.missing) == (
        tiers["Silber"], tiers["Gold"], 50_000 - 10_800,
    )  # fmt: skip


def test_progress_in_points(tiers, anna_member, anna, shop):
    services.update_tier_settings(basis="points", period="rolling", notice_days=30)
    order = make_order(customer=anna, shop=shop, lines=((1, 2_000, 700),))
    services.award_points_for_orders([order.pk])
    with translation.override("de"):
        progress = tier_selectors.tier_progress(anna_member, point_name="Bohnen")
    assert progress.value == 20 and progress.text == "noch 9980 Bohnen bis Silber"


def test_without_tiers_the_recompute_does_nothing(program, anna_member):
    assert services.recompute_tiers() == services.RecomputeResult()
    assert not tier_selectors.tier_progress(anna_member).set_up


def test_the_distribution_counts_members_per_tier(tiers, anna_member, anna, ben, shop):
    services.join_program(customer=ben)
    make_order(customer=anna, shop=shop, lines=((1, 15_000, 700),))
    services.recompute_tiers()
    rows = [(row.name, row.members) for row in tier_selectors.tier_distribution()]
    assert rows == [("VIP", 0), ("Gold", 0), ("Silber", 1), ("Keine Stufe", 1)]


def test_add_months_keeps_the_day_or_takes_the_last_of_the_month():
    jan31 = timezone.make_aware(datetime(2026, 1, 31, 12, 0))  # noqa: DTZ001
    assert (
        timezone.localtime(tier_selectors.add_months(jan31, 1)).date().isoformat() == "2026-02-28"
    )
    assert tier_selectors.add_months(jan31, -12).year == 2025


def test_a_missed_notice_is_sent_and_the_tier_held_for_the_notice_period(
    tiers, anna_member, anna, shop
):
    now = timezone.now()
    make_order(
        customer=anna, shop=shop, lines=((1, 60_000, 700),), placed_at=now - timedelta(days=200)
    )
    services.recompute_tiers(now=now)
    held = MemberTier.objects.get(member=anna_member).held_until
    late = held + timedelta(days=5)  # the nightly job did not run for weeks
    result = services.recompute_tiers(now=late)
    assert (result.notices, result.downgraded, tier_of(anna_member)) == (1, 0, "Gold")
    assert MemberTier.objects.get(member=anna_member).held_until == late + timedelta(days=30)
    assert services.recompute_tiers(now=late + timedelta(days=29)).downgraded == 0
    assert services.recompute_tiers(now=late + timedelta(days=30)).downgraded == 1
    assert tier_of(anna_member) is None


def test_an_order_that_earns_no_points_still_moves_its_member_up(
    tiers, anna_member, anna, shop, after_commit
):
    services.update_program_settings(points_per_euro=0)
    with after_commit():
        make_order(customer=anna, shop=shop, lines=((1, 15_000, 700),))
    assert not anna_member.entries.exists()
    assert tier_of(anna_member) == "Silber"


def test_points_changes_do_not_recount_tiers_by_spend(tiers, anna_member, staff, after_commit):
    with after_commit():
        services.adjust_points(member=anna_member, points=500, reason="Test", staff_user=staff)
    assert services.upgrade_tiers_after(basis="points", member_ids=[anna_member.pk]).members == 0
    assert tier_of(anna_member) is None
