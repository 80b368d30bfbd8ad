"""Automations' triggers (events and the daily check) and the steps that touch other apps:
points, conditions on segments and tags, coupons for non-members, merging, the advisor."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from treu.analytics.prediction_models import CustomerPrediction
from treu.analytics.recommendations.models import CustomerProduct
from treu.commerce.tests.factories import ProductFactory
from treu.core import events
from treu.customers.services import merge_customers
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services as loyalty_services
from treu.loyalty.models import PointsEntry
from treu.loyalty.tests.conftest import start_program
from treu.messaging import services as messaging_services
from treu.messaging.flows import engine, services, triggers
from treu.messaging.models import (
    Enrollment,
    Flow,
    FlowStep,
    MailTemplate,
    Segment,
    SegmentMembership,
    StepRun,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=BERLIN)


def switched_on(key: str) -> Flow:
    return services.switch_flow(flow=Flow.objects.get(default_key=key), active=True, now=NOON)


def custom_flow(*steps, trigger="order") -> Flow:
    flow = Flow.objects.create(name="Test", trigger=trigger, active=True)
    for position, (kind, settings) in enumerate(steps, start=1):
        FlowStep.objects.create(flow=flow, position=position, kind=kind, settings=settings)
    return flow


def test_anniversary_of_the_first_order_enrolls_once_a_year():
    switched_on("anniversary")
    anna = CustomerFactory(first_order_at=datetime(2024, 3, 2, 9, 0, tzinfo=BERLIN))
    CustomerFactory(first_order_at=datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN))  # today: no year yet
    CustomerFactory(first_order_at=datetime(2024, 3, 9, 9, 0, tzinfo=BERLIN))
    assert triggers.enroll_daily(now=NOON) == 1
    assert Enrollment.objects.get().customer_id == anna.pk
    assert triggers.enroll_daily(now=NOON + timedelta(days=1)) == 0  # caught up, not twice


def test_birthday_on_29_february_is_celebrated_on_28_february():
    switched_on("birthday")
    leap = CustomerFactory(birthday=date(2000, 2, 29))
    assert triggers.enroll_daily(now=datetime(2027, 2, 28, 9, tzinfo=BERLIN)) == 1
    assert Enrollment.objects.get().customer_id == leap.pk


def test_win_back_finds_regulars_past_their_expected_order():
    flow = switched_on("winback")
    late, on_time, once = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for customer, due, risk in (
        (late, date(2026, 1, 10), "high"),
        (on_time, date(2026, 2, 20), "low"),
        (once, date(2025, 12, 1), "one_time"),
    ):
        CustomerPrediction.objects.create(
            customer=customer, repeat_purchases=2, recency_days=100, age_days=300, p_alive=0.3,
            expected_90=0.2, expected_365=0.8, next_order_on=due, clv_cents=5000, churn_risk=risk,
        )  # fmt: skip
    assert triggers.enroll_daily(now=NOON) == 1
    enrollment = Enrollment.objects.get(flow=flow)
    assert (enrollment.customer_id, enrollment.occasion) == (late.pk, "due:2026-01-10")


def test_replenishment_finds_customers_whose_coffee_runs_out():
    flow = switched_on("replenishment")
    anna, ben = CustomerFactory(), CustomerFactory()
    product = ProductFactory()
    for customer, runout in ((anna, NOON + timedelta(days=3)), (ben, NOON + timedelta(days=20))):
        CustomerProduct.objects.create(
            customer=customer, product=product, first_at=NOON - timedelta(days=60),
            last_at=NOON - timedelta(days=27), orders=2, units=2, last_quantity=1, weight=0.8,
            supply_days=30, runout_at=runout,
        )  # fmt: skip
    assert triggers.enroll_daily(now=NOON) == 1
    enrollment = Enrollment.objects.get(flow=flow)
    assert enrollment.customer_id == anna.pk
    assert enrollment.context == {"product_id": product.pk}


def test_points_expiring_and_tier_events_enroll(django_capture_on_commit_callbacks):
    expiring, tiers = switched_on("points_expiring"), switched_on("tier_reached")
    anna = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(
            "loyalty.points_expiring", customer=anna,
            payload={"points": 120, "expires_on": "2026-03-31", "days_before": 30},
        )  # fmt: skip
        events.publish(
            "loyalty.tier_changed", customer=anna,
            payload={"from_tier": "Silber", "to_tier": "Gold", "direction": "up"},
        )  # fmt: skip
        events.publish(
            "loyalty.tier_changed", customer=anna,
            payload={"from_tier": "Gold", "to_tier": "Silber", "direction": "down"},
        )  # fmt: skip
    assert Enrollment.objects.get(flow=expiring).occasion == "expiry:2026-03-31:30"
    assert Enrollment.objects.get(flow=tiers).context == {"tier": "Gold"}


def test_points_go_to_members_once_and_others_are_skipped():
    start_program(point_name="Bohnen")
    flow = custom_flow(("points", {"points": 50, "reason": "Danke"}))
    anna, ben = CustomerFactory(), CustomerFactory()
    member = loyalty_services.join_program(customer=anna, now=NOON)
    services.enroll_customers(flow, {anna.pk: "x", ben.pk: "x"}, now=NOON)
    engine.run_due_enrollments(now=NOON)
    member.refresh_from_db()
    assert member.points_balance == 50
    entry = PointsEntry.objects.get(member=member, source_rule="automation")
    assert entry.reason == "Danke" and entry.key.startswith(f"flow:{flow.pk}:step:")
    outcomes = dict(StepRun.objects.values_list("enrollment__customer_id", "outcome"))
    assert outcomes == {anna.pk: "done", ben.pk: "skipped"}
    # The same key again (a replay) awards nothing more.
    assert (
        loyalty_services.award_points_by_automation(
            keys={anna.pk: entry.key}, points=50, reason="Danke", now=NOON
        )
        == set()
    )


def test_conditions_on_segments_and_tags():
    anna, ben = CustomerFactory(), CustomerFactory()
    segment = Segment.objects.create(name="VIP", rules={"match": "all", "groups": []})
    SegmentMembership.objects.create(segment=segment, customer=anna, since=NOON)
    in_segment = custom_flow(
        ("condition", {"test": "segment", "segment_id": segment.pk, "expect": True}),
        ("tag", {"tag": "VIP-Post"}),
    )
    services.enroll_customers(in_segment, {anna.pk: "x", ben.pk: "x"}, now=NOON)
    engine.run_due_enrollments(now=NOON)
    assert list(anna.tags.values_list("name", flat=True)) == ["VIP-Post"]
    assert not ben.tags.exists()
    tagged = custom_flow(
        ("condition", {"test": "tag", "tag": "vip-post", "expect": False}),
        ("tag", {"tag": "Ohne VIP"}),
    )
    services.enroll_customers(tagged, {anna.pk: "x", ben.pk: "x"}, now=NOON)
    engine.run_due_enrollments(now=NOON)
    assert set(ben.tags.values_list("name", flat=True)) == {"Ohne VIP"}
    assert set(anna.tags.values_list("name", flat=True)) == {"VIP-Post"}


def test_a_template_an_automation_sends_cannot_be_deleted():
    template = MailTemplate.objects.get(default_key="welcome")
    with pytest.raises(messaging_services.MailTemplateError) as error:
        messaging_services.delete_mail_template(template)
    assert "Willkommensstrecke" in " ".join(error.value.messages)
    assert MailTemplate.objects.filter(pk=template.pk).exists()


def test_merging_keeps_one_enrollment_per_occasion():
    flow = switched_on("birthday")
    anna, twin = CustomerFactory(), CustomerFactory()
    services.enroll_customers(flow, {anna.pk: "2026", twin.pk: "2026"}, now=NOON)
    Enrollment.objects.update(status="completed")
    services.enroll_customers(flow, {twin.pk: "2027"}, now=NOON)
    merge_customers(survivor=anna, duplicate=twin)
    assert sorted(Enrollment.objects.values_list("customer_id", "occasion")) == [
        (anna.pk, "2026"),
        (anna.pk, "2027"),
    ]


def test_the_advisor_points_to_the_post_purchase_flow_while_it_is_off():
    from types import SimpleNamespace

    from treu.messaging.flows.advice import flow_advice

    figures = SimpleNamespace(
        second_rate_90=0.29, first_timers_lost=71, aov_cents=3000, segment=lambda s: 0,
        orders_per_customer_year=2,
    )  # fmt: skip
    (advice,) = flow_advice(figures)
    assert advice.key == "flow_post_purchase" and "71 %" in advice.title
    assert advice.stake_cents == 71 * 3000
    switched_on("post_purchase")
    assert list(flow_advice(figures)) == []


def test_the_control_group_is_recorded_for_the_experiment_log():
    from treu.messaging import selectors as messaging_selectors
    from treu.messaging.models import Holdout

    flow = Flow.objects.get(default_key="welcome")
    Flow.objects.filter(pk=flow.pk).update(control_percent=50)
    flow = services.switch_flow(flow=flow, active=True, now=NOON)
    customers = [CustomerFactory() for _ in range(10)]
    services.enroll_customers(flow, {c.pk: "x" for c in customers}, now=NOON)
    held = set(Enrollment.objects.filter(held_out=True).values_list("customer_id", flat=True))
    assert (
        held
        and set(
            Holdout.objects.filter(prefix=f"flow:{flow.pk}").values_list("customer_id", flat=True)
        )
        == held
    )
    assert (f"flow:{flow.pk}", flow.name) in messaging_selectors.measurable_sends()


def test_the_flow_outcome_compares_entered_and_control_per_person():
    from treu.commerce.tests.factories import make_order
    from treu.messaging.flows import selectors

    flow = Flow.objects.get(default_key="welcome")
    Flow.objects.filter(pk=flow.pk).update(control_percent=50)
    flow = services.switch_flow(flow=flow, active=True, now=NOON)
    customers = [CustomerFactory() for _ in range(12)]
    services.enroll_customers(flow, {c.pk: "x" for c in customers}, now=NOON)
    held = set(Enrollment.objects.filter(held_out=True).values_list("customer_id", flat=True))
    treated = [c for c in customers if c.pk not in held]
    make_order(customer=treated[0], lines=((1, 3000, 700),), placed_at=NOON + timedelta(days=2))
    make_order(customer=treated[1], lines=((1, 3000, 700),), placed_at=NOON + timedelta(days=45))
    outcome = selectors.flow_outcome(flow, now=NOON + timedelta(days=60))
    assert (outcome.treated.people, outcome.control.people) == (len(treated), len(held))
    assert (outcome.treated.converted, outcome.control.converted) == (1, 0)  # 45 days: too late
    assert outcome.revenue_per_person == (round(3000 / len(treated)), 0)
    assert outcome.conversion.verdict == "too_little_data"
