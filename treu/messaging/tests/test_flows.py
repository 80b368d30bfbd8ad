"""Automations: defaults, triggers, the worker's exactly-once runs, control groups, steps."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treu.commerce.tests.factories import make_order
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services as loyalty_services
from treu.loyalty.models import Coupon
from treu.loyalty.tests.conftest import start_program
from treu.messaging.flows import engine, services, triggers
from treu.messaging.flows.steps import FlowError, clean_settings
from treu.messaging.models import (
    Consent,
    ConsentState,
    Enrollment,
    EnrollmentStatus,
    Flow,
    FlowStep,
    FlowTrigger,
    OutboundMessage,
    StaffTask,
    StepRun,
)
from treu.messaging.tests.sending_world import consenting_customer

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=BERLIN)


def flow(key: str, *, control: int = 0, now=NOON) -> Flow:
    f = Flow.objects.get(default_key=key)
    Flow.objects.filter(pk=f.pk).update(control_percent=control)
    f.refresh_from_db()
    return services.switch_flow(flow=f, active=True, now=now)


def mails(f: Flow):
    return OutboundMessage.objects.filter(key__startswith=f"flow:{f.pk}:step:").order_by("pk")


def test_eleven_default_flows_exist_switched_off_with_valid_steps():
    flows = list(Flow.objects.exclude(default_key=""))
    assert len(flows) == 11
    assert not any(f.active for f in flows)
    for step in FlowStep.objects.all():
        assert clean_settings(step.kind, step.settings) == step.settings
    assert services.ensure_default_flows() == 0  # never twice


def test_a_switched_off_flow_enrolls_no_one():
    anna = CustomerFactory()
    welcome = Flow.objects.get(default_key="welcome")
    assert services.enroll_customers(welcome, {anna.pk: ""}, now=NOON) == 0
    assert not Enrollment.objects.exists()


def test_welcome_mail_goes_out_once_then_tags_those_who_did_not_buy(
    django_capture_on_commit_callbacks,
):
    welcome = flow("welcome")
    with django_capture_on_commit_callbacks(execute=True):
        anna = consenting_customer(first_name="Anna", now=NOON)
    (enrollment,) = Enrollment.objects.filter(flow=welcome)
    Enrollment.objects.update(arrived_at=NOON, enrolled_at=NOON, next_run_at=NOON)
    assert engine.run_due_enrollments(now=NOON) == 1  # send, then the wait starts
    assert engine.run_due_enrollments(now=NOON) == 0
    (mail,) = mails(welcome)
    send_step = welcome.steps.get(position=1)
    assert (
        mail.key == f"flow:{welcome.pk}:step:{send_step.pk}:customer:{anna.pk}:run:{enrollment.pk}"
    )
    assert mail.customer_id == anna.pk
    enrollment.refresh_from_db()
    assert enrollment.position == 2 and enrollment.status == EnrollmentStatus.ACTIVE
    # The wait runs out after seven days; the condition "has not ordered" holds, the tag comes.
    later = NOON + timedelta(days=7, minutes=1)
    engine.run_due_enrollments(now=later)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert list(anna.tags.values_list("name", flat=True)) == ["Abonnent ohne Kauf"]
    assert StepRun.objects.filter(enrollment=enrollment).count() == 4
    assert mails(welcome).count() == 1


def test_a_customer_who_ordered_leaves_at_the_condition():
    welcome = flow("welcome")
    anna = consenting_customer(now=NOON)
    services.enroll_customers(welcome, {anna.pk: ""}, now=NOON)
    engine.run_due_enrollments(now=NOON)
    make_order(customer=anna, placed_at=NOON + timedelta(days=2))
    engine.run_due_enrollments(now=NOON + timedelta(days=8))
    enrollment = Enrollment.objects.get(flow=welcome)
    assert enrollment.status == EnrollmentStatus.STOPPED
    assert not anna.tags.exists()


def test_the_control_group_is_enrolled_but_gets_nothing():
    welcome = flow("welcome", control=50)
    customers = [consenting_customer(now=NOON) for _ in range(12)]
    services.enroll_customers(welcome, {c.pk: "" for c in customers}, now=NOON)
    engine.run_due_enrollments(now=NOON)
    held = set(Enrollment.objects.filter(held_out=True).values_list("customer_id", flat=True))
    assert 0 < len(held) < 12
    got = set(mails(welcome).values_list("customer_id", flat=True))
    assert got == {c.pk for c in customers} - held
    assert StepRun.objects.filter(outcome="held_out").count() == len(held)


def test_switching_off_ends_running_enrollments_and_stops_enrolling():
    welcome = flow("welcome")
    anna = consenting_customer(now=NOON)
    services.enroll_customers(welcome, {anna.pk: ""}, now=NOON)
    services.switch_flow(flow=welcome, active=False, now=NOON)
    assert engine.run_due_enrollments(now=NOON) == 0
    assert Enrollment.objects.get().status == EnrollmentStatus.CANCELLED
    assert not mails(welcome).exists()
    ben = consenting_customer(now=NOON)
    welcome.refresh_from_db()
    assert services.enroll_customers(welcome, {ben.pk: ""}, now=NOON) == 0


def test_one_enrollment_per_occasion_and_one_at_a_time():
    welcome = flow("welcome")
    anna = CustomerFactory()
    assert services.enroll_customers(welcome, {anna.pk: "a"}, now=NOON) == 1
    assert services.enroll_customers(welcome, {anna.pk: "b"}, now=NOON) == 0  # still running
    Enrollment.objects.update(status=EnrollmentStatus.COMPLETED)
    assert services.enroll_customers(welcome, {anna.pk: "a"}, now=NOON) == 0  # same occasion
    assert services.enroll_customers(welcome, {anna.pk: "b"}, now=NOON) == 1


def test_first_order_starts_the_thank_you_but_a_second_does_not(django_capture_on_commit_callbacks):
    thanks = flow("post_purchase")
    anna = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        make_order(customer=anna)
    with django_capture_on_commit_callbacks(execute=True):
        make_order(customer=anna)
    (enrollment,) = Enrollment.objects.filter(flow=thanks)
    assert enrollment.occasion == "first" and enrollment.context["order_id"]


def test_review_request_waits_for_the_delivery(django_capture_on_commit_callbacks):
    review = flow("review_request")
    anna = consenting_customer(now=NOON)
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(customer=anna)
    enrollment = Enrollment.objects.get(flow=review)
    Enrollment.objects.filter(pk=enrollment.pk).update(arrived_at=NOON, next_run_at=NOON)
    engine.run_due_enrollments(now=NOON)
    enrollment.refresh_from_db()
    assert enrollment.position == 1 and enrollment.next_run_at == NOON + engine.DELIVERY_RECHECK
    type(order).objects.filter(pk=order.pk).update(delivered_at=NOON + timedelta(hours=3))
    engine.run_due_enrollments(now=NOON + timedelta(days=1))
    enrollment.refresh_from_db()
    assert enrollment.next_run_at == NOON + timedelta(days=5, hours=3)
    engine.run_due_enrollments(now=NOON + timedelta(days=5, hours=3))
    assert mails(review).count() == 1


def test_an_imported_old_order_starts_nothing(django_capture_on_commit_callbacks):
    flow("post_purchase")
    flow("review_request")
    with django_capture_on_commit_callbacks(execute=True):
        make_order(customer=CustomerFactory(), placed_at=NOON - timedelta(days=400))
    assert not Enrollment.objects.exists()


def test_birthday_coupon_code_is_in_the_mail():
    start_program(point_name="Bohnen")
    birthday = flow("birthday")
    anna = consenting_customer(first_name="Anna", birthday=date(1990, 3, 2), now=NOON)
    ben = consenting_customer(first_name="Ben", birthday=date(1985, 3, 2), now=NOON)
    loyalty_services.join_program(customer=anna, now=NOON)
    assert triggers.enroll_daily(now=NOON) == 2
    assert triggers.enroll_daily(now=NOON) == 0  # the year is the occasion
    engine.run_due_enrollments(now=NOON)
    coupon = Coupon.objects.get()
    assert coupon.member.customer_id == anna.pk and coupon.amount_cents == 500
    by_customer = {m.customer_id: m for m in mails(birthday)}
    assert coupon.code in by_customer[anna.pk].text_body
    assert (
        "Gutschein"
        not in by_customer[ben.pk].subject
        + by_customer[ben.pk].text_body.split("Geburtstagsgutschein")[0][:0]
    )
    assert Enrollment.objects.get(customer=anna).context["gutschein"] == coupon.code


def test_tier_reached_hands_a_task_to_staff(owner):
    tiers = flow("tier_reached")
    anna = CustomerFactory()
    services.enroll_customers(tiers, {anna.pk: ("tier:Gold:1", {"tier": "Gold"})}, now=NOON)
    engine.run_due_enrollments(now=NOON)
    task = StaffTask.objects.get()
    assert (task.customer_id, task.flow_id) == (anna.pk, tiers.pk)
    assert task.due_on == date(2026, 3, 9)
    services.complete_task(task=task, by=owner, now=NOON)
    services.complete_task(task=task, by=None, now=NOON + timedelta(days=1))
    task.refresh_from_db()
    assert (task.done_at, task.done_by) == (NOON, owner)


def test_sunset_ends_marketing_unless_the_customer_clicks():
    sunset = flow("sunset")
    quiet, clicker = consenting_customer(now=NOON), consenting_customer(now=NOON)
    services.enroll_customers(sunset, {quiet.pk: "x", clicker.pk: "x"}, now=NOON)
    engine.run_due_enrollments(now=NOON)
    from treu.messaging.models import MessageEvent

    mail = mails(sunset).get(customer=clicker)
    MessageEvent.objects.create(message=mail, kind="click", at=NOON + timedelta(days=1))
    engine.run_due_enrollments(now=NOON + timedelta(days=15))
    states = dict(Consent.objects.values_list("customer_id", "state"))
    assert states[quiet.pk] == ConsentState.WITHDRAWN
    assert states[clicker.pk] == ConsentState.ACTIVE


def test_unengaged_subscribers_are_found_by_mails_without_opens():
    anna = consenting_customer(now=NOON - timedelta(days=300))
    ben = consenting_customer(now=NOON - timedelta(days=300))
    for n in range(5):
        for c in (anna, ben):
            OutboundMessage.objects.create(
                key=f"campaign:{n}:customer:{c.pk}",
                to_email=c.email,
                subject="x",
                text_body="x",
                purpose="marketing",
                customer=c,
                status="sent",
                not_before=NOON - timedelta(days=20 * n + 1),
                sent_at=NOON - timedelta(days=20 * n + 1),
                created_at=NOON,
                message_id=f"<{n}.{c.pk}@test>",
            )
    Consent.objects.update(updated_at=NOON - timedelta(days=300))
    from treu.messaging.models import MessageEvent

    MessageEvent.objects.create(
        message=OutboundMessage.objects.filter(customer=ben).first(),
        kind="open",
        at=NOON - timedelta(days=3),
    )
    assert triggers.unengaged_customer_ids(days=180, min_mails=5, now=NOON) == [anna.pk]


def test_step_settings_are_checked_with_german_messages():
    with pytest.raises(FlowError) as error:
        clean_settings("wait", {"days": 400, "hours": 0, "anchor": ""})
    assert "days" in error.value.message_dict
    with pytest.raises(FlowError) as error:
        clean_settings("coupon", {"value": "percent", "percent": 0, "valid_days": 30})
    assert "percent" in error.value.message_dict
    with pytest.raises(FlowError):
        clean_settings("send", {"template_id": 999999})
    step = FlowStep.objects.filter(kind="wait").first()
    before = dict(step.settings)
    with pytest.raises(FlowError):
        services.save_step(step=step, settings={"days": -1, "hours": 0})
    step.refresh_from_db()
    assert step.settings == before


def test_a_claim_is_exclusive_and_a_dead_workers_rows_come_back():
    welcome = flow("welcome")
    anna = consenting_customer(now=NOON)
    services.enroll_customers(welcome, {anna.pk: ""}, now=NOON)
    first = engine.claim_due_enrollments(token="a", now=NOON)
    assert first and engine.claim_due_enrollments(token="b", now=NOON) == []
    # Worker a dies; after the lease b takes over, and a's late run does nothing.
    later = NOON + engine.LEASE
    taken = engine.claim_due_enrollments(token="b", now=later)
    assert taken == first
    assert engine.run_claimed(token="a", ids=first, now=later) == 0
    assert engine.run_claimed(token="b", ids=taken, now=later) == 1
    assert mails(welcome).count() == 1


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(
        st.tuples(st.sampled_from("ab"), st.sampled_from(["claim", "run", "die", "wait"])),
        min_size=1,
        max_size=14,
    )
)
def test_no_enrollment_runs_a_step_twice_under_any_interleaving(plan):
    """Two workers claim, run, die and wait in any order; afterwards everything finishes and
    every step ran exactly once per enrollment (one mail each)."""
    StepRun.objects.all().delete()
    Enrollment.objects.all().delete()
    OutboundMessage.objects.all().delete()
    f = Flow.objects.get(default_key="tier_reached")  # send, then a task: two steps
    Flow.objects.filter(pk=f.pk).update(active=True)
    f.refresh_from_db()
    StaffTask.objects.all().delete()
    # The tier mail is transactional: an address is enough, no consent needed.
    customers = [CustomerFactory() for _ in range(3)]
    services.enroll_customers(f, {c.pk: "x" for c in customers}, now=NOON)
    now = NOON
    claims: dict[str, list[int]] = {"a": [], "b": []}
    for worker, action in plan:
        if action == "claim":
            claims[worker] = engine.claim_due_enrollments(token=worker, now=now, limit=2)
        elif action == "run":
            engine.run_claimed(token=worker, ids=claims[worker], now=now)
        elif action == "die":
            claims[worker] = []
        else:
            now += engine.LEASE
    engine.run_due_enrollments(now=now + engine.LEASE)
    steps = list(f.steps.values_list("pk", flat=True))
    assert StepRun.objects.count() == 3 * len(steps)
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"completed"}
    assert mails(f).count() == 3
    assert StaffTask.objects.count() == 3


def test_daily_trigger_finds_overdue_and_skips_triggers_of_switched_off_flows():
    assert triggers.enroll_daily(now=NOON) == 0
    assert FlowTrigger.OVERDUE in {f.trigger for f in Flow.objects.all()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_at_once_run_every_step_once():
    from treu.core.tests.threads import all_at_once

    f = Flow.objects.get(default_key="tier_reached")  # a mail, then a staff task
    f = services.switch_flow(flow=f, active=True, now=NOON)
    customers = [CustomerFactory() for _ in range(60)]
    services.enroll_customers(f, {c.pk: "x" for c in customers}, now=NOON)

    def worker():
        ran = 0
        for _ in range(200):  # until every enrollment is through
            if not Enrollment.objects.filter(status="active").exists():
                break
            token = uuid4().hex
            ids = engine.claim_due_enrollments(token=token, now=NOON, limit=7)
            ran += engine.run_claimed(token=token, ids=ids, now=NOON)
        return ran

    results = all_at_once(4, worker)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert sum(results) == StepRun.objects.count() == 120
    assert mails(f).count() == StaffTask.objects.count() == 60
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"completed"}
