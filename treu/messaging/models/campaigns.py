"""Campaigns: a mail template sent once to a segment, now or at a local time, optionally
with an A/B test on a sample and a control group held back for measuring uplift.

The sends themselves go through `services.sending.send_mail_template` under the key
prefixes `campaign:<id>` (the whole send, or the rest after an A/B test; also the prefix
of the control group), `campaign:<id>:a` and `campaign:<id>:b` (the test's two halves).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    TESTING = "testing", _("A/B test running")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class AbVariant(models.TextChoices):
    NONE = "", _("No A/B test")
    SUBJECT = "subject", _("Another subject")
    TEMPLATE = "template", _("Another template")


class AbMetric(models.TextChoices):
    CLICKS = "clicks", _("Clicks")
    OPENS = "opens", _("Opens (only customers who allowed tracking)")
    ORDERS = "orders", _("Attributed orders")
    REVENUE = "revenue", _("Attributed revenue")


class Campaign(TimeStampedModel):
    name = models.CharField(_("name"), max_length=120)
    segment = models.ForeignKey(
        "messaging.Segment",
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    mail_template = models.ForeignKey(
        "messaging.MailTemplate",
        verbose_name=_("mail template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    topic = models.ForeignKey(
        "messaging.Topic",
        verbose_name=_("topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The wall time the mail arrives in each customer's own time zone; empty: at once.
    send_date = models.DateField(_("send on"), null=True, blank=True)
    send_time = models.TimeField(_("send at"), null=True, blank=True)
    control_percent = models.PositiveSmallIntegerField(_("control group (%)"), default=10)
    ab_variant = models.CharField(
        _("A/B test"), max_length=16, choices=AbVariant.choices, blank=True, default=""
    )
    subject_b = models.CharField(_("subject of variant B"), max_length=300, blank=True)
    template_b = models.ForeignKey(
        "messaging.MailTemplate",
        verbose_name=_("template of variant B"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ab_sample_percent = models.PositiveSmallIntegerField(_("test sample (%)"), default=20)
    ab_wait_hours = models.PositiveSmallIntegerField(_("hours until the winner"), default=4)
    ab_metric = models.CharField(
        _("winner by"), max_length=16, choices=AbMetric.choices, default=AbMetric.CLICKS
    )
    ab_winner = models.CharField(_("winner"), max_length=1, blank=True)  # "", "a", "b"
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    # When the worker should next act: the first send, or the A/B decision.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    # A worker that runs the campaign holds it until then; a crashed one's lease runs out
    # and the next run finishes the send (sends write nothing twice).
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    tested_at = models.DateTimeField(_("test sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("winner chosen"), null=True, blank=True)
    finished_at = models.DateTimeField(_("sent completely"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # The last run's figures per phase (what the outbox and control group cannot tell).
    audience_count = models.PositiveIntegerField(_("audience"), default=0)
    without_consent_count = models.PositiveIntegerField(_("without consent"), default=0)
    at_cap_count = models.PositiveIntegerField(_("at the frequency cap"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="messaging_campaign_due",
                condition=Q(status__in=["scheduled", "sending", "testing"]),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return f"campaign:{self.pk}"

    @property
    def is_ab_test(self) -> bool:
        return bool(self.ab_variant)

    @property
    def prefixes(self) -> list[str]:
        base = self.prefix
        return [base, f"{base}:a", f"{base}:b"] if self.is_ab_test else [base]

    @property
    def editable(self) -> bool:
        return self.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)

    @property
    def cancellable(self) -> bool:
        return self.status in (
            CampaignStatus.DRAFT,
            CampaignStatus.SCHEDULED,
            CampaignStatus.TESTING,
        )
