"""The rules every marketing send keeps, and the control groups held back from sends.

`SendingRules` is one row: the frequency cap across campaigns and automations and the
quiet hours. `Holdout` records who was held back from a campaign or an automation step
as its random control group, so its uplift can be measured against the recipients.
"""

from __future__ import annotations

from datetime import time

from django.db import models
from django.utils.translation import gettext_lazy as _


class SendingRules(models.Model):
    # No seven-day window holds more marketing mails for one customer than this (0: no cap).
    weekly_cap = models.PositiveSmallIntegerField(_("marketing mails per week at most"), default=3)
    # No marketing mail is handed over between these local times; it waits for the end.
    quiet_from = models.TimeField(_("quiet hours from"), default=time(20, 0))
    quiet_until = models.TimeField(_("quiet hours until"), default=time(8, 0))
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("sending rules")
        verbose_name_plural = _("sending rules")

    def __str__(self) -> str:
        return str(_("Sending rules"))

    @classmethod
    def current(cls) -> SendingRules:
        rules = cls.objects.order_by("pk").first()
        return rules if rules is not None else cls.objects.create()

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_from != self.quiet_until


class Holdout(models.Model):
    """A customer held back from a send as part of its control group.

    `prefix` is the send's key prefix in the outbox ("campaign:7", "flow:3:step:2"); `at`
    is when the mail would have gone out, from which the control group's orders count.
    """

    prefix = models.CharField(_("send"), max_length=120)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    at = models.DateTimeField(_("held back at"))

    class Meta:
        verbose_name = _("control group member")
        verbose_name_plural = _("control group members")
        constraints = [
            models.UniqueConstraint(fields=["prefix", "customer"], name="messaging_holdout_once")
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.customer_id}"
