"""Reads of automations: the list with its counts, one flow's steps with theirs, the uplift
over the control group, the staff tasks. Grouped queries only; no page loops over rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Q, QuerySet

from treu.analytics.uplift import GroupRevenue, Uplift, conversion_uplift, revenue_uplift
from treu.messaging.flows import steps as step_rules
from treu.messaging.models import (
    Enrollment,
    EnrollmentStatus,
    Flow,
    FlowStep,
    MailTemplate,
    StaffTask,
    StepOutcome,
    StepRun,
)
from treu.messaging.selectors.conversions import conversions_by_prefix
from treu.messaging.selectors.sending import GroupOutcome, _outcome

# Orders within this many days after entering a flow count for its uplift.
OUTCOME_DAYS = 30


def flow_list() -> QuerySet[Flow]:
    """Every automation with its counts: entered, running, mails written (three aggregates)."""
    return Flow.objects.annotate(
        entered=Count("enrollments", distinct=True),
        running=Count(
            "enrollments", filter=Q(enrollments__status=EnrollmentStatus.ACTIVE), distinct=True
        ),
        held_out=Count("enrollments", filter=Q(enrollments__held_out=True), distinct=True),
    ).order_by("pk")


def sent_per_flow() -> dict[int, int]:
    rows = (
        StepRun.objects.filter(outcome=StepOutcome.SENT)
        .values("step__flow_id")
        .annotate(n=Count("id"))
        .values_list("step__flow_id", "n")
    )
    return dict(rows)


def flow_by_id(flow_id: int) -> Flow | None:
    return Flow.objects.filter(pk=flow_id).first()


def step_by_id(flow: Flow, step_id: int) -> FlowStep | None:
    return FlowStep.objects.filter(flow=flow, pk=step_id).first()


@dataclass
class StepRow:
    step: FlowStep
    text: str
    entered: int
    sent: int
    held_out: int
    waiting: int
    left: int  # stopped here (a condition not met, nothing to wait for)
    skipped: int
    not_sent: int
    orders: int
    revenue_cents: int


def step_rows(flow: Flow) -> list[StepRow]:
    """The flow's steps with their counts: three grouped queries and the conversions."""
    steps = list(flow.steps.order_by("position"))
    outcomes: dict[int, dict[str, int]] = {s.pk: {} for s in steps}
    for step_id, outcome, n in (
        StepRun.objects.filter(step__flow=flow)
        .values("step_id", "outcome")
        .annotate(n=Count("id"))
        .values_list("step_id", "outcome", "n")
    ):
        outcomes[step_id][outcome] = n
    left = dict(
        Enrollment.objects.filter(flow=flow, status=EnrollmentStatus.STOPPED)
        .values("position")
        .annotate(n=Count("id"))
        .values_list("position", "n")
    )
    waiting = dict(
        Enrollment.objects.filter(flow=flow, status=EnrollmentStatus.ACTIVE)
        .values("position")
        .annotate(n=Count("id"))
        .values_list("position", "n")
    )
    sends = [s.prefix for s in steps if s.kind == "send"]
    conversions = conversions_by_prefix(sends) if sends else {}
    templates = dict(MailTemplate.objects.values_list("pk", "name"))
    rows = []
    for step in steps:
        counts = outcomes[step.pk]
        done = sum(counts.values())
        conversion = conversions.get(step.prefix)
        rows.append(
            StepRow(
                step=step,
                text=step_rules.describe(step, templates=templates),
                entered=done + waiting.get(step.position, 0),
                sent=counts.get(StepOutcome.SENT, 0),
                held_out=counts.get(StepOutcome.HELD_OUT, 0),
                waiting=waiting.get(step.position, 0),
                left=left.get(step.position, 0),
                skipped=counts.get(StepOutcome.SKIPPED, 0),
                not_sent=counts.get(StepOutcome.NOT_SENT, 0),
                orders=conversion.orders if conversion else 0,
                revenue_cents=conversion.revenue_cents if conversion else 0,
            )
        )
    return rows


@dataclass(frozen=True)
class FlowOutcome:
    treated: GroupOutcome
    control: GroupOutcome
    conversion: Uplift
    revenue: Uplift
    days: int

    @property
    def revenue_per_person(self) -> tuple[int, int]:
        """Revenue per person in cents, entered and control group (rounded for showing)."""
        return round(self.revenue.treated), round(self.revenue.control)

    @property
    def conversion_points(self) -> str:
        """The conversion difference in percentage points, German style ("+1,5")."""
        return f"{self.conversion.difference * 100:+.1f}".replace(".", ",")


def flow_outcome(flow: Flow, *, now: datetime) -> FlowOutcome:
    """Everyone who entered the flow against its control group: who ordered within
    OUTCOME_DAYS after entering, and their revenue — one query per group."""
    window = timedelta(days=OUTCOME_DAYS)
    base = (
        Enrollment.objects.filter(flow=flow)
        .order_by()
        .annotate(person=F("customer_id"), moment=F("enrolled_at"))
    )
    treated = _outcome(base.filter(held_out=False).values("person", "moment"), window, now)
    control = _outcome(base.filter(held_out=True).values("person", "moment"), window, now)
    return FlowOutcome(
        treated=treated,
        control=control,
        conversion=conversion_uplift(
            treated_conversions=treated.converted,
            treated=treated.people,
            control_conversions=control.converted,
            control=control.people,
        ),
        revenue=revenue_uplift(
            GroupRevenue(treated.people, treated.revenue_cents, treated.revenue_squares),
            GroupRevenue(control.people, control.revenue_cents, control.revenue_squares),
        ),
        days=OUTCOME_DAYS,
    )


def send_names() -> dict[str, str]:
    """The automations with a control group, for the experiment log ({"flow:3": name})."""
    return {f.prefix: f.name for f in Flow.objects.filter(control_percent__gt=0).only("pk", "name")}


def open_tasks() -> QuerySet[StaffTask]:
    return (
        StaffTask.objects.filter(done_at__isnull=True)
        .select_related("customer", "flow")
        .order_by(F("due_on").asc(nulls_last=True), "created_at", "pk")
    )


def done_tasks(*, limit: int = 50) -> list[StaffTask]:
    return list(
        StaffTask.objects.filter(done_at__isnull=False)
        .select_related("customer", "flow", "done_by")
        .order_by("-done_at", "-pk")[:limit]
    )


def task_by_id(task_id: int) -> StaffTask | None:
    return StaffTask.objects.filter(pk=task_id).first()
