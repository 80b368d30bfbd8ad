"""Earning rules for purchases: each kind, scope, minimum, window, limits, tiers, take-back."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from treu.commerce import services as commerce
from treu.core import events, privacy
from treu.core.models import DomainEvent
from treu.customers import services as customer_services
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import (
    EntryKind,
    EntryStatus,
    Member,
    PointsEntry,
    ProgramSettings,
    PurchaseRule,
    PurchaseRuleUse,
)
from treu.loyalty.tests.conftest import assert_sums_match_ledger, start_program
from treu.loyalty.tests.rules import ESPRESSO, FILTER, MUG, buy, catalogue, give_back, make_rule

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


BERLIN_DEC_31_LATE = berlin(2025, 12, 31, 23, 30)  # 22:30 UTC
BERLIN_JAN_1_EARLY = berlin(2026, 1, 1, 0, 10)  # 23:10 UTC on 31 December


@pytest.fixture
def shop_catalogue(db):
    return catalogue()


@pytest.fixture
def program(db, shop_catalogue):
    """Bohnen, one per euro; started long ago, so dated orders in tests earn."""
    program = start_program(point_name="Bohnen")
    ProgramSettings.objects.update(created_at=berlin(2020, 1, 1))
    return program


@pytest.fixture
def member(program, anna, after_commit) -> Member:
    with after_commit():
        return services.join_program(customer=anna, now=berlin(2021, 1, 1))


def _order(customer, after_commit, *lines, **kwargs):
    with after_commit():
        return buy(customer, *lines, **kwargs)


def _rule_points(member: Member, rule: PurchaseRule) -> int:
    """What the member holds by the rule: its earn rows less their reversals (by key)."""
    return sum(e.points for e in member.entries.filter(key__contains=f"rule:{rule.pk}:"))


# -- Each kind -------------------------------------------------------------------------------


def test_a_multiplier_doubles_the_purchase_points(member, anna, after_commit):
    rule = make_rule()
    _order(anna, after_commit, (ESPRESSO, 2, 1250), (MUG, 1, 900))
    assert _rule_points(member, rule) == 34
    assert_sums_match_ledger(member)
    assert member.pending_points == 68


def test_a_multiplier_on_a_category_doubles_only_its_goods(member, anna, after_commit):
    rule = make_rule(categories=[catalogue_category("kaffeebohnen")])
    _order(anna, after_commit, (ESPRESSO, 2, 1250), (MUG, 1, 900))
    assert _rule_points(member, rule) == 25
    row = member.entries.get(source_rule=rule.tag)
    assert row.order_line.sku == ESPRESSO
    assert row.reason == "Doppelte Punkte im Dezember"
    assert row.key == f"earn:rule:{rule.pk}:line:{row.order_line_id}"


def test_extra_points_per_euro_on_listed_skus(member, anna, after_commit):
    rule = make_rule(kind="per_euro", points_per_euro=3, skus=[FILTER], multiplier=None)
    _order(anna, after_commit, (FILTER, 1, 1000), (ESPRESSO, 1, 1000))
    assert _rule_points(member, rule) == 30
    assert PurchaseRule.objects.get(pk=rule.pk).multiplier is None


def test_points_per_item_count_units(member, anna, after_commit):
    rule = make_rule(kind="per_item", points=10, skus=[MUG, ESPRESSO])
    _order(anna, after_commit, (MUG, 3, 500), (FILTER, 2, 800))
    assert _rule_points(member, rule) == 30


def test_a_bonus_per_order_needs_the_minimum_order_value(member, anna, after_commit):
    rule = make_rule(name="+50 Bohnen ab 40 €", kind="per_order", points=50, min_order_cents=4000)
    # Shipping does not count: 39,99 € of goods plus 4,90 € shipping earn no bonus.
    _order(anna, after_commit, (ESPRESSO, 1, 3999), shipping_cents=490)
    assert _rule_points(member, rule) == 0
    # A discount counts: 45 € of goods less 5 € is exactly 40 €.
    order = _order(anna, after_commit, (ESPRESSO, 1, 4500), discount_cents=500)
    row = member.entries.get(source_rule=rule.tag)
    assert (row.points, row.order_line_id, row.key) == (
        50,
        None,
        f"earn:rule:{rule.pk}:order:{order.pk}",
    )
    assert row.status == EntryStatus.PENDING
    assert row.available_at == member.entries.get(source_rule="purchase", order=order).available_at


def test_rule_points_of_an_old_order_are_available_at_once_like_its_purchase_points(
    member, anna, after_commit
):
    rule = make_rule(kind="per_order", points=50)
    _order(anna, after_commit, (ESPRESSO, 1, 1000), placed_at=timezone.now() - timedelta(days=30))
    assert member.entries.get(source_rule=rule.tag).status == EntryStatus.AVAILABLE
    assert_sums_match_ledger(member)
    assert member.points_balance == 60


def test_a_tier_multiplier_and_a_campaign_multiply(member, anna, after_commit, owner):
    gold = services.save_tier(name="Gold", rank=1, threshold=0, earning_multiplier="1.5")
    services.assign_tier(member=member, tier=gold, reason="Test", staff_user=owner)
    rule = make_rule()
    _order(anna, after_commit, (ESPRESSO, 1, 2000))
    purchase = member.entries.get(source_rule="purchase").points
    assert (purchase, _rule_points(member, rule)) == (30, 30)  # 20 × 1.5 × 2 = 60


def test_an_inactive_rule_or_one_of_another_shop_day_gives_nothing(member, anna, after_commit):
    off = make_rule(active=False)
    later = make_rule(starts_on=timezone.localdate() + timedelta(days=1))
    _order(anna, after_commit, (ESPRESSO, 1, 2000))
    assert _rule_points(member, off) == _rule_points(member, later) == 0
    assert not PurchaseRule.objects.filter(first_awarded_at__isnull=False).exists()


def test_guests_and_non_members_earn_nothing_by_rules(program, ben, after_commit):
    make_rule(kind="per_order", points=50)
    _order(ben, after_commit, (ESPRESSO, 1, 2000))
    assert not PointsEntry.objects.exists()


# -- Window, tiers, limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("placed", "earns"),
    [
        (berlin(2025, 12, 1, 0, 5), True),  # first minutes of the first day (Berlin)
        (berlin(2025, 11, 30, 23, 55), False),
        (BERLIN_DEC_31_LATE, True),  # already 1 January? No: 31 December in Berlin
        (BERLIN_JAN_1_EARLY, False),  # still 31 December in UTC, but January in Berlin
    ],
)
def test_the_window_is_whole_berlin_days_both_ends_included(
    member, anna, after_commit, placed, earns
):
    rule = make_rule(starts_on=date(2025, 12, 1), ends_on=date(2025, 12, 31))
    _order(anna, after_commit, (ESPRESSO, 1, 1000), placed_at=placed)
    assert (_rule_points(member, rule) > 0) is earns


def test_only_members_of_the_eligible_tiers_earn(program, anna, ben, after_commit, owner):
    silver = services.save_tier(name="Silber", rank=1, threshold=0)
    gold = services.save_tier(name="Gold", rank=2, threshold=100_000)
    with after_commit():
        members = [services.join_program(customer=c, now=berlin(2021, 1, 1))
                   for c in (anna, ben)]  # fmt: skip
    services.assign_tier(member=members[0], tier=gold, reason="VIP", staff_user=owner)
    services.assign_tier(member=members[1], tier=silver, reason="Test", staff_user=owner)
    rule = make_rule(kind="per_order", points=50, eligible_tiers=[gold])
    _order(anna, after_commit, (ESPRESSO, 1, 1000))
    _order(ben, after_commit, (ESPRESSO, 1, 1000))
    assert [_rule_points(m, rule) for m in members] == [50, 0]


def test_a_once_rule_is_earned_by_the_first_order_only(member, anna, after_commit):
    rule = make_rule(name="Erstbestellung", kind="per_order", points=100, limit="once")
    first = _order(anna, after_commit, (ESPRESSO, 1, 1000))
    _order(anna, after_commit, (ESPRESSO, 1, 1000))
    row = member.entries.get(source_rule=rule.tag)
    assert row.order_id == first.pk
    assert PurchaseRuleUse.objects.get().order_id == first.pk


def test_in_one_batch_the_earliest_order_takes_a_once_rule(member, anna, shop, after_commit):
    rule = make_rule(kind="per_order", points=100, limit="once")
    now = timezone.now()
    batch = [
        commerce.OrderInput(
            shop=shop, external_id=f"B{n}", customer_id=anna.pk,
            placed_at=now - timedelta(hours=hours),
            lines=[commerce.LineInput(title="Bohnen", sku=ESPRESSO, quantity=1,
                                      unit_price_cents=1000)],
            total_cents=1000,
        )
        for n, hours in enumerate([1, 5, 3])
    ]  # fmt: skip
    with after_commit():
        commerce.ingest_orders(batch)
    row = member.entries.get(source_rule=rule.tag)
    assert row.order.external_id == "B1"  # placed five hours ago, taken in second


def test_a_yearly_rule_is_earned_once_per_berlin_calendar_year(member, anna, after_commit):
    rule = make_rule(kind="per_order", points=20, limit="per_year")
    for placed in (berlin(2025, 3, 1, 12), BERLIN_DEC_31_LATE, BERLIN_JAN_1_EARLY,
                   berlin(2026, 2, 1, 12)):  # fmt: skip
        _order(anna, after_commit, (ESPRESSO, 1, 1000), placed_at=placed)
    years = sorted(
        timezone.localtime(e.order.placed_at).year
        for e in member.entries.filter(source_rule=rule.tag)
    )
    assert years == [2025, 2026]


def test_the_same_order_awarded_again_earns_its_rule_points_once(member, anna, after_commit):
    rule = make_rule(kind="per_order", points=100, limit="once")
    extra = make_rule(kind="per_item", points=5)
    order = _order(anna, after_commit, (ESPRESSO, 2, 1000))
    event = DomainEvent.objects.filter(kind="order.ingested").last()
    with after_commit():
        events.dispatch(event)
    assert services.award_points_for_orders([order.pk]) == 0
    services.catch_up_points(since=timezone.now() - timedelta(hours=3))
    assert (_rule_points(member, rule), _rule_points(member, extra)) == (100, 10)
    assert PurchaseRuleUse.objects.count() == 1
    assert_sums_match_ledger(member)


# -- Taking back -------------------------------------------------------------------------------


def test_a_return_takes_back_the_rule_points_of_the_returned_units(member, anna, after_commit):
    rule = make_rule(kind="per_item", points=10, skus=[ESPRESSO])
    order = _order(anna, after_commit, (ESPRESSO, 3, 1000), (MUG, 1, 1000))
    with after_commit():
        give_back(order, ESPRESSO, 1)
    assert _rule_points(member, rule) == 30 - 10
    reversal = member.entries.get(kind=EntryKind.REVERSE, reason=rule.name)
    assert (reversal.source_rule, reversal.points) == (services.RETURN, -10)
    # The purchase points of the line went back on their own row.
    assert member.entries.filter(kind=EntryKind.REVERSE).count() == 2
    assert_sums_match_ledger(member)


def test_a_partial_return_keeps_a_bonus_above_the_minimum(member, anna, after_commit):
    rule = make_rule(kind="per_order", points=50, min_order_cents=4000)
    order = _order(anna, after_commit, (ESPRESSO, 3, 2000))
    with after_commit():
        give_back(order, ESPRESSO, 1)  # 40 € kept: still qualifies
    assert _rule_points(member, rule) == 50


def test_a_return_below_the_minimum_takes_back_the_whole_rule(member, anna, after_commit):
    rule = make_rule(kind="per_order", points=50, min_order_cents=4000, limit="once")
    double = make_rule(min_order_cents=4000)
    order = _order(anna, after_commit, (ESPRESSO, 2, 2000), (MUG, 1, 500))
    assert (_rule_points(member, rule), _rule_points(member, double)) == (50, 45)
    with after_commit():
        give_back(order, ESPRESSO, 1)  # 25 € kept
    assert (_rule_points(member, rule), _rule_points(member, double)) == (0, 0)
    causes = set(member.entries.filter(reason=rule.name, kind=EntryKind.REVERSE)
                 .values_list("source_rule", flat=True))  # fmt: skip
    assert causes == {services.RULE_UNMET}
    assert PurchaseRuleUse.objects.get().voided_at is not None
    # The use was given back: the next qualifying order earns the once-only bonus.
    _order(anna, after_commit, (ESPRESSO, 2, 2000))
    assert _rule_points(member, rule) == 50
    assert_sums_match_ledger(member)


def test_a_fully_returned_order_loses_its_bonus(member, anna, after_commit):
    rule = make_rule(kind="per_order", points=50)
    order = _order(anna, after_commit, (ESPRESSO, 2, 2000))
    with after_commit():
        give_back(order, ESPRESSO, 2)
    assert _rule_points(member, rule) == 0
    reversal = member.entries.get(kind=EntryKind.REVERSE, order_line__isnull=True)
    assert reversal.source_rule == services.RETURN
    assert_sums_match_ledger(member)
    assert member.pending_points == 0


def test_returning_the_scoped_goods_takes_back_a_scoped_bonus(member, anna, after_commit):
    rule = make_rule(kind="per_order", points=100, skus=[MUG])
    order = _order(anna, after_commit, (MUG, 1, 2000), (ESPRESSO, 2, 2000))
    with after_commit():
        give_back(order, MUG, 1)
    assert _rule_points(member, rule) == 0


def test_a_cancelled_order_loses_its_rule_points_and_gives_back_the_use(member, anna, after_commit):
    rule = make_rule(kind="per_order", points=100, limit="once")
    double = make_rule()
    order = _order(anna, after_commit, (ESPRESSO, 1, 3000))
    with after_commit():
        commerce.cancel_order(order)
    assert (_rule_points(member, rule), _rule_points(member, double)) == (0, 0)
    assert set(
        member.entries.filter(kind=EntryKind.REVERSE).values_list("source_rule", flat=True)
    ) == {services.CANCELLATION}
    assert PurchaseRuleUse.objects.get().voided_at is not None
    assert_sums_match_ledger(member)
    assert member.pending_points == 0
    # Cancelled again (the event twice): nothing more.
    with after_commit():
        events.dispatch(DomainEvent.objects.filter(kind="order.cancelled").last())
    assert member.entries.filter(kind=EntryKind.REVERSE).count() == 3


def test_spent_rule_points_are_taken_back_only_as_far_as_the_balance_goes(
    member, anna, after_commit
):
    rule = make_rule(kind="per_order", points=100)
    order = _order(anna, after_commit, (ESPRESSO, 1, 1000),
                   placed_at=timezone.now() - timedelta(days=20))  # fmt: skip
    services.redeem_points(member=member, points=105, reason="Prämie")
    with after_commit():
        commerce.cancel_order(order)
    assert_sums_match_ledger(member)
    bonus_back = member.entries.get(kind=EntryKind.REVERSE, reason=rule.name)
    assert bonus_back.points + (-bonus_back.unrecovered) == -100
    assert member.points_balance == 0


def test_lines_the_shop_replaced_lose_their_rule_points_and_the_new_ones_earn(
    member, anna, shop, after_commit
):
    rule = make_rule(kind="per_item", points=10, limit="once")

    def version(quantity: int) -> commerce.OrderInput:
        return commerce.OrderInput(
            shop=shop, external_id="C1", customer_id=anna.pk,
            placed_at=timezone.now() - timedelta(hours=3),
            lines=[commerce.LineInput(title="Bohnen", sku=ESPRESSO, quantity=quantity,
                                      unit_price_cents=1000)],
            total_cents=1000 * quantity,
        )  # fmt: skip

    with after_commit():
        commerce.ingest_order(version(1))
    with after_commit():
        commerce.ingest_order(version(3))
    assert _rule_points(member, rule) == 30  # the once-rule still belongs to this order
    assert member.entries.filter(source_rule=services.ORDER_CHANGED, reason=rule.name).count() == 1
    assert_sums_match_ledger(member)


# -- Keeping rules -----------------------------------------------------------------------------


def test_it_refuses_bad_rules_in_german(program, settings):
    settings.LANGUAGE_CODE = "de"
    cases = [
        ({"ends_on": date(2019, 12, 31)}, "ends_on", "Das Ende liegt vor dem Beginn."),
        ({"multiplier": 1}, "multiplier", "mehr als 1"),
        ({"skus": "ESP-250, GIBTS-NICHT"}, "skus", "GIBTS-NICHT"),
        ({"categories": [987654]}, "categories", "987654"),
        ({"kind": "per_order", "points": 0}, "points", "ganze Zahl"),
        ({"kind": "per_euro", "points_per_euro": None}, "points_per_euro", "pro Euro"),
        ({"min_order_cents": -1}, "min_order_cents", "negativ"),
    ]
    for fields, field, text in cases:
        with pytest.raises(services.LoyaltyError) as refused:
            make_rule(**fields)
        assert text in " ".join(refused.value.message_dict[field]), (fields, refused.value)
    assert not PurchaseRule.objects.exists()


def test_what_a_rule_gives_is_fixed_once_it_gave_points(member, anna, after_commit):
    rule = make_rule(kind="per_order", points=50)
    renamed = services.save_purchase_rule(rule=rule, name="Neu", points=50)  # unused: free
    assert renamed.name == "Neu"
    _order(anna, after_commit, (ESPRESSO, 1, 1000))
    rule.refresh_from_db()
    assert rule.first_awarded_at is not None
    with pytest.raises(services.LoyaltyError) as refused:
        services.save_purchase_rule(rule=rule, points=80)
    assert "__all__" in refused.value.message_dict
    services.save_purchase_rule(rule=rule, name="+50 Bohnen", ends_on=date(2030, 1, 1))
    services.set_purchase_rule_active(rule=rule, active=False)
    rule.refresh_from_db()
    assert (rule.name, rule.points, rule.active) == ("+50 Bohnen", 50, False)


# -- Queries, merging, privacy -----------------------------------------------------------------


def test_awarding_a_batch_with_rules_takes_a_fixed_number_of_queries(program):
    gold = services.save_tier(name="Gold", rank=1, threshold=0)
    make_rule(categories=[catalogue_category("kaffeebohnen")], eligible_tiers=[gold])
    make_rule(kind="per_order", points=50, limit="once")
    make_rule(kind="per_item", points=5, skus=[MUG], limit="per_year")

    def award(n: int) -> tuple[int, int]:
        customers = [CustomerFactory() for _ in range(n)]
        for customer in customers:
            services.join_program(customer=customer, now=berlin(2021, 1, 1))
        orders = [buy(c, (ESPRESSO, 1, 1000), (MUG, 1, 500)) for c in customers]
        with CaptureQueriesContext(connection) as queries:
            services.award_points_for_orders([o.pk for o in orders])
        return len(queries), PurchaseRuleUse.objects.count()

    award(1)  # the rules' first points mark them as used once
    (small, uses_small), (large, uses_large) = award(5), award(40)
    assert (uses_small, uses_large) == (2 + 2 * 5, 2 + 2 * 5 + 2 * 40)
    # The 13 without rules, and: the rules' categories and tiers, the lines' SKUs, the
    # products' categories, the member tiers, the uses so far, INSERT the new uses.
    assert small == large == 13 + 7


def test_merging_customers_moves_the_uses_of_limited_rules(member, anna, after_commit, owner):
    make_rule(kind="per_order", points=100, limit="once")
    duplicate = CustomerFactory()
    with after_commit():
        services.join_program(customer=duplicate, now=berlin(2021, 1, 1))
    _order(duplicate, after_commit, (ESPRESSO, 1, 1000))
    customer_services.merge_customers(survivor=anna, duplicate=duplicate)
    assert PurchaseRuleUse.objects.get().member_id == member.pk
    _order(anna, after_commit, (ESPRESSO, 1, 1000))
    assert PurchaseRuleUse.objects.count() == 1  # the merged person had used it


def test_erasing_a_customer_removes_the_rule_uses(member, anna, after_commit, owner):
    make_rule(kind="per_order", points=100, limit="once")
    _order(anna, after_commit, (ESPRESSO, 1, 1000))
    assert privacy.export_customer(anna)["loyalty.PurchaseRuleUse"][0]["rule__name"]
    privacy.erase_customer(anna)
    assert not PurchaseRuleUse.objects.exists()


def catalogue_category(slug: str):
    from treu.commerce.models import Category

    return Category.objects.get(slug=slug)


def test_a_rule_named_in_the_ledger_reads_on_the_member_page(
    member, anna, after_commit, client_of, marketer
):
    from django.urls import reverse

    make_rule(kind="per_order", points=50)
    _order(anna, after_commit, (ESPRESSO, 1, 1000))
    page = client_of(marketer).get(reverse("loyalty:member_detail", args=[member.pk]))
    assert "Doppelte Punkte im Dezember" in page.content.decode()


def test_the_manuals_december_example_is_rounded_once(member, anna, after_commit, owner):
    rule = make_rule()
    _order(anna, after_commit, (ESPRESSO, 1, 1250), (MUG, 1, 900))
    member.refresh_from_db()
    assert member.pending_points == 43  # not 21 + 21
    gold = services.save_tier(name="Gold", rank=1, threshold=0, earning_multiplier="1.5")
    services.assign_tier(member=member, tier=gold, reason="Test", staff_user=owner)
    _order(anna, after_commit, (ESPRESSO, 1, 1250), (MUG, 1, 900))
    member.refresh_from_db()
    assert member.pending_points == 43 + 64
    assert _rule_points(member, rule) > 0
