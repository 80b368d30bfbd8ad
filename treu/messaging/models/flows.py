"""Automations (*Automationen*): flows of steps a customer walks through after a trigger.

`Flow` is one automation (what starts it, whether it is on, its control group), `FlowStep`
its ordered steps (wait, condition, send, add tag, award points, create coupon, staff task,
end marketing) with their settings as validated JSON (`flows/steps.py`). `Enrollment` is
one customer's walk through a flow for one occasion (a birthday flow: one per year);
`StepRun` records that a step ran for an enrollment — unique, so no step ever runs twice
for the same enrollment. `StaffTask` is work an automation hands to a person
("handgeschriebene Dankeskarte an diese Top-Kundin").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FlowTrigger(models.TextChoices):
    NEWSLETTER_CONFIRMED = "newsletter_confirmed", _("Newsletter sign-up confirmed")
    FIRST_ORDER = "first_order", _("First order")
    ORDER = "order", _("Every order")
    BIRTHDAY = "birthday", _("Birthday (checked daily)")
    ANNIVERSARY = "anniversary", _("Anniversary of the first order (checked daily)")
    OVERDUE = "overdue", _("Past the expected next order (checked daily)")
    RUNNING_OUT = "running_out", _("A product probably runs out (checked daily)")
    POINTS_EXPIRING = "points_expiring", _("Points about to expire")
    TIER_REACHED = "tier_reached", _("Higher tier reached")
    UNENGAGED = "unengaged", _("Long without opening or clicking (checked daily)")


class StepKind(models.TextChoices):
    WAIT = "wait", _("Wait")
    CONDITION = "condition", _("Condition")
    SEND = "send", _("Send mail")
    TAG = "tag", _("Add tag")
    POINTS = "points", _("Award points")
    COUPON = "coupon", _("Create coupon")
    TASK = "task", _("Staff task")
    END_MARKETING = "end_marketing", _("End marketing mails")


class Flow(models.Model):
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=24, choices=FlowTrigger.choices)
    # The trigger's own figures: {"days": 30} past the expected order, {"within_days": 5} …
    trigger_settings = models.JSONField(_("trigger settings"), default=dict, blank=True)
    active = models.BooleanField(_("switched on"), default=False)
    # Share of enrolled customers held back at random: they get nothing, for the uplift.
    control_percent = models.PositiveSmallIntegerField(_("control group (%)"), default=0)
    default_key = models.CharField(max_length=40, blank=True, editable=False)
    switched_at = models.DateTimeField(_("switched on or off"), null=True, blank=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("automation")
        verbose_name_plural = _("automations")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["default_key"],
                condition=~Q(default_key=""),
                name="messaging_flow_default_once",
            ),
            models.CheckConstraint(
                condition=Q(control_percent__lte=50), name="messaging_flow_control_0_50"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        """The flow's key prefix: its control group and its steps' mails start so."""
        return f"flow:{self.pk}"


class FlowStep(models.Model):
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=16, choices=StepKind.choices)
    settings = models.JSONField(_("settings"), default=dict, blank=True)

    class Meta:
        verbose_name = _("automation step")
        verbose_name_plural = _("automation steps")
        ordering = ["flow", "position"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "position"], name="messaging_flowstep_once")
        ]

    def __str__(self) -> str:
        return f"{self.flow_id}/{self.position} {self.kind}"

    @property
    def prefix(self) -> str:
        """The outbox key prefix of this step's mails (attribution counts per step)."""
        return f"flow:{self.flow_id}:step:{self.pk}"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", _("running")
    COMPLETED = "completed", _("completed")
    STOPPED = "stopped", _("left at a condition")
    CANCELLED = "cancelled", _("cancelled")


class Enrollment(models.Model):
    """One customer's walk through a flow, for one occasion.

    `position` is the step to run next; `arrived_at` when the enrollment reached it (a wait
    counts from there). The worker runs it at `next_run_at`; while a worker holds it,
    `next_run_at` is the end of that worker's lease and `lease_token` names the worker, so a
    dead worker's rows come due again and a slow one finds its claim taken over.
    """

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="enrollments")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    # What makes this walk one of several: "" (once in a life), "2026" (a birthday),
    # "order:17" (a review request), "tier:Gold:981" …
    occasion = models.CharField(_("occasion"), max_length=80, blank=True)
    held_out = models.BooleanField(_("in the control group"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=EnrollmentStatus.choices, default="active"
    )
    position = models.PositiveSmallIntegerField(_("next step"), default=1)
    arrived_at = models.DateTimeField(_("reached the step"))
    next_run_at = models.DateTimeField(_("due"), null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    # Small facts of the occasion the steps use: the order, the coupon code, the tier …
    context = models.JSONField(default=dict, blank=True)
    enrolled_at = models.DateTimeField(_("enrolled"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("automation enrollment")
        verbose_name_plural = _("automation enrollments")
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "customer", "occasion"], name="messaging_enrollment_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_run_at"],
                condition=Q(status="active"),
                name="messaging_enrollment_due",
            ),
            models.Index(fields=["flow", "status", "position"], name="messaging_enrollment_flow"),
            models.Index(fields=["customer", "flow"], name="messaging_enrollment_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.flow_id}:{self.customer_id}:{self.occasion}"


class StepOutcome(models.TextChoices):
    DONE = "done", _("done")
    SENT = "sent", _("mail written")
    HELD_OUT = "held_out", _("held out (control group)")
    NOT_SENT = "not_sent", _("not sent (no consent, no address or weekly limit)")
    MET = "met", _("condition met")
    NOT_MET = "not_met", _("condition not met")
    SKIPPED = "skipped", _("skipped")


class StepRun(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="runs")
    step = models.ForeignKey(FlowStep, on_delete=models.CASCADE, related_name="runs")
    at = models.DateTimeField(_("ran at"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=StepOutcome.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("automation step run")
        verbose_name_plural = _("automation step runs")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "step"], name="messaging_steprun_once")
        ]
        indexes = [models.Index(fields=["step", "outcome"], name="messaging_steprun_step")]

    def __str__(self) -> str:
        return f"{self.enrollment_id}/{self.step_id} {self.outcome}"


class StaffTask(models.Model):
    """Something a person should do for a customer, handed over by an automation."""

    title = models.CharField(_("task"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    flow = models.ForeignKey(
        Flow, verbose_name=_("automation"), null=True, blank=True, on_delete=models.SET_NULL
    )
    # Once per step and enrollment: "flow:3:step:9:run:981".
    key = models.CharField(max_length=120, unique=True)
    due_on = models.DateField(_("due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("staff task")
        verbose_name_plural = _("staff tasks")
        indexes = [
            models.Index(
                fields=["due_on", "created_at"],
                condition=Q(done_at__isnull=True),
                name="messaging_stafftask_open",
            )
        ]

    def __str__(self) -> str:
        return self.title
