"""The worker that walks enrollments through their flows, set-based and exactly once.

Every minute (and in a loop for up to ~50 seconds) a worker **claims** due enrollments —
one UPDATE that sets its lease token and pushes `next_run_at` to the end of the lease, on
PostgreSQL over `FOR UPDATE SKIP LOCKED`, so two workers never claim the same row — and
then **runs** them grouped by step: per group one transaction that locks the rows again,
keeps only those still at that step and still holding this worker's token, runs the step
for all of them (one send for the group, one tag write …), writes a `StepRun` per
enrollment (unique: a step that ran once can never run again for the enrollment) and
moves them on. A worker that dies leaves its rows claimed until the lease ends; then they
come due again and the next worker runs them — the dead one's transaction never
committed, so nothing ran twice. Steps that are not waits follow each other at once.
"""

from __future__ import annotations

import logging
import time as clock
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.commerce import selectors as commerce_selectors
from treu.customers import selectors as customer_selectors
from treu.customers import services as customer_services
from treu.loyalty import services as loyalty_services
from treu.messaging.flows.steps import DELIVERY_PATIENCE_DAYS
from treu.messaging.models import (
    Enrollment,
    EnrollmentStatus,
    EventKind,
    FlowStep,
    MailTemplate,
    MessageEvent,
    SegmentMembership,
    StaffTask,
    StepKind,
    StepOutcome,
    StepRun,
    WithdrawalMethod,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH = 500
# A run stops claiming after this long, so the next minute's run takes over.
BUDGET_SECONDS = 50
DELIVERY_RECHECK = timedelta(hours=6)


@dataclass
class Result:
    """What a step did for one enrollment. `outcome` None: not yet (a wait goes on)."""

    outcome: str | None = None
    detail: str = ""
    wait_until: datetime | None = None
    stop: bool = False  # leaves the flow here (a condition not met, nothing to wait for)
    context: dict = field(default_factory=dict)


def claim_due_enrollments(*, token: str, now: datetime, limit: int = BATCH) -> list[int]:
    """Claim up to `limit` due enrollments for one lease; returns their ids."""
    table = Enrollment._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {table} SET lease_token = %s, next_run_at = %s WHERE id IN "  # noqa: S608
        f"(SELECT id FROM {table} WHERE status = %s AND next_run_at <= %s "
        f"ORDER BY next_run_at, id LIMIT %s{lock}) RETURNING id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [token, now + LEASE, EnrollmentStatus.ACTIVE, now, limit])
        return sorted(row[0] for row in cursor.fetchall())


def run_claimed(*, token: str, ids: list[int], now: datetime) -> int:
    """Run the step each of these claimed enrollments is at; returns the steps run."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    rows = Enrollment.objects.filter(
        pk__in=ids, lease_token=token, status=EnrollmentStatus.ACTIVE
    ).values_list("pk", "flow_id", "position")
    for pk, flow_id, position in rows:
        groups[(flow_id, position)].append(pk)
    steps: dict[int, list[FlowStep]] = defaultdict(list)
    for step in FlowStep.objects.filter(flow_id__in={f for f, _p in groups}).order_by("position"):
        steps[step.flow_id].append(step)
    ran = 0
    for (flow_id, position), pks in sorted(groups.items()):
        try:
            ran += _run_group(steps[flow_id], position, pks, token=token, now=now)
        except Exception:
            # Rolled back whole; the rows come due again when the lease ends.
            log.exception(
                "Automation %s, step at %s failed for %d enrollments", flow_id, position, len(pks)
            )
    return ran


def run_due_enrollments(*, now: datetime | None = None, budget: float = BUDGET_SECONDS) -> int:
    """Claim and run due enrollments until none are due (or the budget is spent)."""
    fixed = now
    token = uuid.uuid4().hex
    started = clock.monotonic()
    ran = 0
    for _round in range(100):  # each round moves every claimed row one step on
        moment = fixed or timezone.now()
        ids = claim_due_enrollments(token=token, now=moment)
        if not ids:
            break
        ran += run_claimed(token=token, ids=ids, now=moment)
        if clock.monotonic() - started > budget:
            break
    return ran


def _run_group(
    flow_steps: list[FlowStep], position: int, pks: list[int], *, token: str, now: datetime
) -> int:
    step = next((s for s in flow_steps if s.position == position), None)
    following = next((s.position for s in flow_steps if s.position > position), None)
    with transaction.atomic():
        rows = list(
            Enrollment.objects.select_for_update()
            .filter(
                pk__in=pks, lease_token=token, position=position, status=EnrollmentStatus.ACTIVE
            )
            .order_by("pk")
        )
        if not rows:
            return 0
        # A send is keyed per customer: one enrollment per customer per group, the rest next.
        batch, later, seen = [], [], set()
        for row in rows:
            (later if row.customer_id in seen else batch).append(row)
            seen.add(row.customer_id)
        if step is None:  # past the last step (steps were removed): done
            results = {row.pk: Result(outcome=StepOutcome.DONE) for row in batch}
        else:
            results = RUNNERS[step.kind](step, batch, now)
        runs = []
        for row in batch:
            result = results[row.pk]
            row.lease_token = ""
            if result.context:
                row.context = {**row.context, **result.context}
            if result.outcome is None:
                row.next_run_at = result.wait_until
                continue
            if step is not None:
                runs.append(
                    StepRun(
                        enrollment=row,
                        step=step,
                        at=now,
                        outcome=result.outcome,
                        detail=result.detail[:200],
                    )
                )
            if result.stop or following is None:
                row.status = EnrollmentStatus.STOPPED if result.stop else EnrollmentStatus.COMPLETED
                row.finished_at, row.next_run_at = now, None
            else:
                row.position, row.arrived_at, row.next_run_at = following, now, now
        for row in later:
            row.lease_token, row.next_run_at = "", now
        # Unique per enrollment and step: were this step to run twice, this raises and the
        # whole group (its mails, coupons, points) is rolled back.
        StepRun.objects.bulk_create(runs)
        Enrollment.objects.bulk_update(
            rows,
            [
                "lease_token",
                "context",
                "next_run_at",
                "status",
                "finished_at",
                "position",
                "arrived_at",
            ],
        )
    return len(runs)


# -- The steps ---------------------------------------------------------------------------


def _held_out(rows: list[Enrollment]) -> tuple[dict[int, Result], list[Enrollment]]:
    """The control group gets nothing from a step that acts; the others go on."""
    held = {r.pk: Result(outcome=StepOutcome.HELD_OUT) for r in rows if r.held_out}
    return held, [r for r in rows if not r.held_out]


def _run_wait(step: FlowStep, rows: list[Enrollment], now: datetime) -> dict[int, Result]:
    s = step.settings
    span = timedelta(days=int(s.get("days", 0)), hours=int(s.get("hours", 0)))
    results = {}
    delivered = {}
    if s.get("anchor") == "delivery":
        delivered = commerce_selectors.delivery_times(
            int(r.context["order_id"]) for r in rows if r.context.get("order_id")
        )
    for row in rows:
        if s.get("anchor") == "delivery":
            at = delivered.get(int(row.context.get("order_id") or 0))
            if at is None:
                if now - row.arrived_at > timedelta(days=DELIVERY_PATIENCE_DAYS):
                    results[row.pk] = Result(
                        outcome=StepOutcome.SKIPPED,
                        detail=_("No delivery was reported."),
                        stop=True,
                    )
                else:
                    results[row.pk] = Result(wait_until=now + DELIVERY_RECHECK)
                continue
            target = at + span
        else:
            target = row.arrived_at + span
        results[row.pk] = (
            Result(outcome=StepOutcome.DONE) if target <= now else Result(wait_until=target)
        )
    return results


def _condition_query(step: FlowStep, now: datetime):
    s = step.settings
    test = s.get("test")
    if test == "ordered":
        return commerce_selectors.live_order_facts(placed_before=now).filter(
            customer_id=OuterRef("customer_id"), placed_at__gte=OuterRef("enrolled_at")
        )
    if test in ("clicked", "engaged"):
        kinds = [EventKind.CLICK] if test == "clicked" else [EventKind.CLICK, EventKind.OPEN]
        return MessageEvent.objects.filter(
            kind__in=kinds,
            message__customer_id=OuterRef("customer_id"),
            at__gte=OuterRef("enrolled_at"),
        )
    if test == "segment":
        return SegmentMembership.objects.filter(
            segment_id=s.get("segment_id"), customer_id=OuterRef("customer_id")
        )
    if test == "tag":
        tag_ids = customer_selectors.all_tags().filter(name__iexact=s.get("tag", ""))
        return customer_selectors.tag_links(
            customer=OuterRef("customer_id"), tag_ids=tag_ids.values_list("pk", flat=True)
        )
    raise ValueError(f"Unknown condition {test!r}")


def _run_condition(step: FlowStep, rows: list[Enrollment], now: datetime) -> dict[int, Result]:
    expect = bool(step.settings.get("expect", True))
    answers = dict(
        Enrollment.objects.filter(pk__in=[r.pk for r in rows])
        .annotate(answer=Exists(_condition_query(step, now)))
        .values_list("pk", "answer")
    )
    return {
        row.pk: Result(
            outcome=StepOutcome.MET if answers[row.pk] else StepOutcome.NOT_MET,
            stop=bool(answers[row.pk]) != expect,
        )
        for row in rows
    }


def _run_send(step: FlowStep, rows: list[Enrollment], now: datetime) -> dict[int, Result]:
    from treu.messaging import services
    from treu.messaging.selectors import keys_in_outbox

    results, rows = _held_out(rows)
    template = MailTemplate.objects.filter(pk=step.settings.get("template_id")).first()
    if template is None:
        results.update(
            {
                r.pk: Result(outcome=StepOutcome.NOT_SENT, detail=_("The template was deleted."))
                for r in rows
            }
        )
        return results
    if not rows:
        return results
    occurrences = {r.customer_id: f"run:{r.pk}" for r in rows}
    per_customer = {
        r.customer_id: {"gutschein": r.context["gutschein"]}
        for r in rows
        if r.context.get("gutschein")
    }
    report = services.send_mail_template(
        services.MailSend(
            prefix=step.prefix,
            mail_template=template,
            customer_ids=[r.customer_id for r in rows],
            per_customer=per_customer,
            occurrences=occurrences,
        ),
        now=now,
    )
    keys = {
        r.pk: services.message_key(step.prefix, r.customer_id, occurrences[r.customer_id])
        for r in rows
    }
    written = keys_in_outbox(keys.values())
    for row in rows:
        if keys[row.pk] in written:
            results[row.pk] = Result(outcome=StepOutcome.SENT)
        else:
            results[row.pk] = Result(outcome=StepOutcome.NOT_SENT)
    log.debug("Automation step %s: %s", step.pk, report)
    return results


def _run_tag(step: FlowStep, rows: list[Enrollment], now: datetime) -> dict[int, Result]:
    results, rows = _held_out(rows)
    added = customer_services.add_tag_to_customers(
        customer_ids=[r.customer_id for r in rows], name=step.settings["tag"]
    )
    for row in rows:
        detail = "" if row.customer_id in added else _("Had the tag already.")
        results[row.pk] = Result(outcome=StepOutcome.DONE, detail=detail)
    return results


def _run_points(step: FlowStep, rows: list[Enrollment], now: datetime) -> dict[int, Result]:
    results, rows = _held_out(rows)
    awarded = loyalty_services.award_points_by_automation(
        keys={r.customer_id: f"{step.prefix}:run:{r.pk}" for r in rows},
        points=int(step.settings["points"]),
        reason=step.settings["reason"],
        now=now,
    )
    for row in rows:
        if row.customer_id in awarded:
            results[row.pk] = Result(outcome=StepOutcome.DONE)
        else:
            results[row.pk] = Result(
                outcome=StepOutcome.SKIPPED, detail=_("Not a member of the loyalty programme.")
            )
    return results


def _run_coupon(step: FlowStep, rows: list[Enrollment], now: datetime) -> dict[int, Result]:
    results, rows = _held_out(rows)
    s = step.settings
    value = (
        {"amount_cents": int(s["amount_cents"])}
        if s.get("value") == "amount"
        else {"percent": int(s["percent"])}
    )
    codes = loyalty_services.issue_automation_coupons(
        customer_ids=[r.customer_id for r in rows],
        label=s.get("label") or _("Automation coupon"),
        valid_days=int(s["valid_days"]),
        source=step.prefix,
        now=now,
        **value,
    )
    for row in rows:
        code = codes.get(row.customer_id)
        if code:
            results[row.pk] = Result(outcome=StepOutcome.DONE, context={"gutschein": code})
        else:
            results[row.pk] = Result(
                outcome=StepOutcome.SKIPPED, detail=_("Not a member of the loyalty programme.")
            )
    return results


def _run_task(step: FlowStep, rows: list[Enrollment], now: datetime) -> dict[int, Result]:
    results, rows = _held_out(rows)
    due = timezone.localdate(now) + timedelta(days=int(step.settings.get("due_days", 0)))
    StaffTask.objects.bulk_create(
        [
            StaffTask(
                title=step.settings["title"],
                customer_id=r.customer_id,
                flow_id=step.flow_id,
                key=f"{step.prefix}:run:{r.pk}",
                due_on=due,
                created_at=now,
            )
            for r in rows
        ]
    )
    results.update({r.pk: Result(outcome=StepOutcome.DONE) for r in rows})
    return results


def _run_end_marketing(step: FlowStep, rows: list[Enrollment], now: datetime) -> dict[int, Result]:
    from treu.messaging import services

    results, rows = _held_out(rows)
    for row in rows:
        customer = customer_selectors.customer_by_id(row.customer_id)
        services.withdraw_consent(
            customer=customer,
            method=WithdrawalMethod.SUNSET,
            reason=_("No open or click for a long time; the last mail was not clicked."),
            now=now,
        )
        results[row.pk] = Result(outcome=StepOutcome.DONE)
    return results


RUNNERS: dict[str, Callable[[FlowStep, list[Enrollment], datetime], dict[int, Result]]] = {
    StepKind.WAIT: _run_wait,
    StepKind.CONDITION: _run_condition,
    StepKind.SEND: _run_send,
    StepKind.TAG: _run_tag,
    StepKind.POINTS: _run_points,
    StepKind.COUPON: _run_coupon,
    StepKind.TASK: _run_task,
    StepKind.END_MARKETING: _run_end_marketing,
}
