"""Writes of automations: enrolling, switching on and off, editing, staff tasks, defaults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.customers import selectors as customer_selectors
from treu.messaging.flows import steps as step_rules
from treu.messaging.flows.defaults import DEFAULT_FLOWS, TRIGGER_SETTINGS
from treu.messaging.flows.steps import FlowError
from treu.messaging.models import (
    Enrollment,
    EnrollmentStatus,
    Flow,
    FlowStep,
    Holdout,
    MailTemplate,
    StaffTask,
)
from treu.messaging.services.sending import in_control_group


def enroll_customers(
    flow: Flow,
    occasions: Mapping[int, str | tuple[str, dict]],
    *,
    now: datetime | None = None,
) -> int:
    """Start the flow for these customers ({id: occasion} or {id: (occasion, context)}).

    Nothing when the flow is off. A customer is in a flow once at a time and once per
    occasion (running it again for the same birthday does nothing); erased customers are
    left out. The control group is decided here, by a fixed coin per flow and customer.
    Returns the number enrolled; the worker runs the first step within a minute.
    """
    now = now or timezone.now()
    if not flow.active or not occasions:
        return 0
    first = flow.steps.order_by("position").values_list("position", flat=True).first()
    if first is None:
        return 0
    wanted = {int(pk): (v if isinstance(v, tuple) else (v, {})) for pk, v in occasions.items()}
    with transaction.atomic():
        # The coin is tossed on the customer number: stable across databases and rebuilds
        # (the demo builds the same shop twice), unique like the id.
        alive = dict(
            customer_selectors.segmentable_customers()
            .filter(pk__any_of=list(wanted))
            .values_list("pk", "number")
        )
        taken = set(
            Enrollment.objects.filter(flow=flow, customer_id__in=list(alive)).values_list(
                "customer_id", "occasion", "status"
            )
        )
        busy = {c for c, _o, status in taken if status == EnrollmentStatus.ACTIVE}
        done = {(c, o) for c, o, _s in taken}
        rows = [
            Enrollment(
                flow=flow,
                customer_id=pk,
                occasion=wanted[pk][0][:80],
                context=wanted[pk][1],
                held_out=in_control_group(flow.prefix, alive[pk], flow.control_percent),
                position=first,
                arrived_at=now,
                next_run_at=now,
                enrolled_at=now,
            )
            for pk in sorted(alive)
            if pk not in busy and (pk, wanted[pk][0][:80]) not in done
        ]
        # Another process may have enrolled the same occasion meanwhile: the constraint wins.
        Enrollment.objects.bulk_create(rows, ignore_conflicts=True)
        # The control group as every send records it (prefix "flow:<id>", from the first
        # time someone was held back): the experiment log measures the flow's mails with it.
        Holdout.objects.bulk_create(
            [
                Holdout(prefix=flow.prefix, customer_id=r.customer_id, at=now)
                for r in rows
                if r.held_out
            ],
            ignore_conflicts=True,
        )
    return len(rows)


@transaction.atomic
def switch_flow(*, flow: Flow, active: bool, now: datetime | None = None) -> Flow:
    """Switch an automation on or off. Off stops enrolling and ends its running enrollments
    (status cancelled): nothing of it is sent later, nothing is caught up when it is
    switched on again."""
    now = now or timezone.now()
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    if flow.active == active:
        return flow
    if active and not flow.steps.exists():
        raise FlowError({"active": [_("An automation without steps cannot be switched on.")]})
    flow.active, flow.switched_at = active, now
    flow.save(update_fields=["active", "switched_at"])
    from treu.messaging.flows.triggers import forget_order_flows

    transaction.on_commit(forget_order_flows)
    forget_order_flows()
    if not active:
        Enrollment.objects.filter(flow=flow, status=EnrollmentStatus.ACTIVE).update(
            status=EnrollmentStatus.CANCELLED, finished_at=now, next_run_at=None, lease_token=""
        )
    return flow


@transaction.atomic
def save_flow(
    *,
    flow: Flow,
    name: str,
    description: str,
    control_percent: int,
    trigger_settings: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Flow:
    """The automation's name, description, control group and trigger figures."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 120:
        errors["name"] = [_("Give the automation a name of at most 120 characters.")]
    if not isinstance(control_percent, int) or not 0 <= control_percent <= 50:
        errors["control_percent"] = [_("The control group is 0 to 50 percent.")]
    cleaned = {}
    for key, (low, high, message) in TRIGGER_SETTINGS.get(flow.trigger, {}).items():
        value = (trigger_settings or {}).get(key, flow.trigger_settings.get(key))
        if not isinstance(value, int) or not low <= value <= high:
            errors[key] = [str(message)]
        cleaned[key] = value
    if errors:
        raise FlowError(errors)
    flow.name, flow.description = name, (description or "").strip()
    flow.control_percent, flow.trigger_settings = control_percent, cleaned
    flow.edited_at = now or timezone.now()
    flow.save()
    return flow


@transaction.atomic
def save_step(
    *, step: FlowStep, settings: Mapping[str, Any], now: datetime | None = None
) -> FlowStep:
    """New settings for a step; enrollments that have not reached it yet follow them."""
    step.settings = step_rules.clean_settings(step.kind, settings)
    step.save(update_fields=["settings"])
    Flow.objects.filter(pk=step.flow_id).update(edited_at=now or timezone.now())
    return step


@transaction.atomic
def complete_task(*, task: StaffTask, by, now: datetime | None = None) -> StaffTask:
    """Mark a staff task done (once; a second click changes nothing)."""
    task = StaffTask.objects.select_for_update().get(pk=task.pk)
    if task.done_at is None:
        task.done_at, task.done_by = now or timezone.now(), by
        task.save(update_fields=["done_at", "done_by"])
    return task


def ensure_default_flows() -> int:
    """Create treu's default automations that are missing, switched off. Existing ones are
    never touched: the owner may have edited them. Returns the number created."""
    existing = set(
        Flow.objects.filter(default_key__in=[d["key"] for d in DEFAULT_FLOWS]).values_list(
            "default_key", flat=True
        )
    )
    templates = dict(MailTemplate.objects.exclude(default_key="").values_list("default_key", "pk"))
    created = 0
    with transaction.atomic():
        for default in DEFAULT_FLOWS:
            if default["key"] in existing:
                continue
            if any(
                kind == "send" and settings["template"] not in templates
                for kind, settings in default["steps"]
            ):
                continue  # its template is not there (yet): next migrate
            flow = Flow.objects.create(
                default_key=default["key"],
                name=default["name"],
                description=default["description"],
                trigger=default["trigger"],
                trigger_settings=default.get("trigger_settings", {}),
                control_percent=default.get("control_percent", 0),
            )
            for position, (kind, settings) in enumerate(default["steps"], start=1):
                data = dict(settings)
                if kind == "send":
                    data = {"template_id": templates[data.pop("template")]}
                FlowStep.objects.create(
                    flow=flow,
                    position=position,
                    kind=kind,
                    settings=step_rules.clean_settings(kind, data),
                )
            created += 1
    return created


def default_flows_after_migrate(sender, **kwargs) -> None:
    if sender.label == "messaging":
        ensure_default_flows()
