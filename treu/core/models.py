from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Base for every treu row: when it came and when it last changed."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class DomainEvent(models.Model):
    """Something that happened to a customer, appended once and never changed.

    Written in the same transaction as the change it describes, so the
    timeline and every subscriber see exactly what was committed.
    """

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    source = models.CharField(_("source"), max_length=64, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["customer", "-occurred_at", "-id"], name="event_timeline")]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class CapturedMail(models.Model):
    """A mail the default setup kept instead of sending, so the demo needs no mail server."""

    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True, db_index=True)
    from_email = models.CharField(_("from"), max_length=254)
    to = models.TextField(_("to"), help_text=_("Recipients, one per line."))
    subject = models.CharField(_("subject"), max_length=998)
    text_body = models.TextField(_("text"), blank=True)
    html_body = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)

    class Meta:
        verbose_name = _("captured mail")
        verbose_name_plural = _("captured mails")
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return self.subject

    @property
    def recipients(self) -> list[str]:
        return [line for line in self.to.splitlines() if line]


class NumberSequence(models.Model):
    """Gap-tolerant counters for human-facing numbers (customer numbers), safe under concurrency."""

    name = models.CharField(max_length=64, primary_key=True)
    last_value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"
