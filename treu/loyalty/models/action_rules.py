"""Earning rules for actions: points for a birthday, a review, a newsletter sign-up …

A rule says which action earns how many points, when (an active window of Berlin dates),
how often per member (once, once per calendar year, unlimited) and for which tiers. Each
award is an `earn` row of the points ledger plus an `ActionAward` saying which rule and
which occasion (the reference) it was for; the ledger row's unique key makes it happen
once. The shared fields (name … eligible_tiers) are those of the purchase rules, so both
can later share an abstract base.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel
from treu.loyalty.models.points import PointsEntry
from treu.loyalty.models.rules import RuleLimit
from treu.loyalty.models.tiers import Tier

# A custom event's name as shops send it: "workshop_besucht", "verkostung-2026".
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,49}$")


class ActionTrigger(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    ANNIVERSARY = "anniversary", _("Anniversary of the first purchase")
    REVIEW = "review", _("Product review")
    NEWSLETTER = "newsletter", _("Newsletter sign-up (double opt-in confirmed)")
    SURVEY = "survey", _("Survey answered")
    SOCIAL = "social", _("Social media (follow or share)")
    CUSTOM = "custom", _("Custom event")


# Triggers that shops, tills and staff report; birthdays and anniversaries come from the
# daily job alone.
REPORTED_TRIGGERS = (
    ActionTrigger.REVIEW,
    ActionTrigger.NEWSLETTER,
    ActionTrigger.SURVEY,
    ActionTrigger.SOCIAL,
    ActionTrigger.CUSTOM,
)
DATED_TRIGGERS = (ActionTrigger.BIRTHDAY, ActionTrigger.ANNIVERSARY)


class SocialNetwork(models.TextChoices):
    INSTAGRAM = "instagram", "Instagram"
    FACEBOOK = "facebook", "Facebook"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    PINTEREST = "pinterest", "Pinterest"
    X = "x", "X (Twitter)"
    LINKEDIN = "linkedin", "LinkedIn"
    THREADS = "threads", "Threads"
    MASTODON = "mastodon", "Mastodon"
    WHATSAPP = "whatsapp", "WhatsApp"


class ActionRule(TimeStampedModel):
    """Points for one kind of action; several active rules for one action all award."""

    # Shared with the purchase rules: keep names and meaning in step.
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    starts_on = models.DateField(
        _("valid from"), null=True, blank=True, help_text=_("Empty: from now on.")
    )
    ends_on = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("The last day included (Europe/Berlin). Empty: no end."),
    )
    limit = models.CharField(
        _("limit per member"), max_length=10, choices=RuleLimit.choices, default=RuleLimit.ONCE
    )
    eligible_tiers = models.ManyToManyField(
        Tier,
        verbose_name=_("eligible tiers"),
        blank=True,
        related_name="+",
        help_text=_("None chosen: every member, in a tier or not."),
    )
    # The action's own fields.
    trigger = models.CharField(_("action"), max_length=12, choices=ActionTrigger.choices)
    points = models.PositiveIntegerField(
        _("points"), validators=[MinValueValidator(1), MaxValueValidator(1_000_000)]
    )
    network = models.CharField(
        _("network"),
        max_length=12,
        choices=SocialNetwork.choices,
        blank=True,
        help_text=_("Social media only. Empty: every network."),
    )
    event = models.CharField(
        _("event name"),
        max_length=50,
        blank=True,
        help_text=_(
            "Custom events only: the name the shop sends, e.g. workshop_besucht "
            "(lower-case letters, digits, - and _)."
        ),
    )

    class Meta:
        verbose_name = _("earning rule for actions")
        verbose_name_plural = _("earning rules for actions")
        ordering = ["trigger", "name", "id"]
        permissions = [("record_action", _("Can record a member's action"))]
        indexes = [models.Index(fields=["trigger", "active"], name="loyalty_action_rule_trigger")]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="loyalty_action_points_gt_0"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="loyalty_action_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(trigger="custom") & ~Q(event="") | ~Q(trigger="custom") & Q(event=""),
                name="loyalty_action_event_only_custom",
            ),
            models.CheckConstraint(
                condition=Q(trigger="social") | Q(network=""),
                name="loyalty_action_network_only_social",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def runs_on(self, day: date) -> bool:
        """Active and inside its window on this Berlin day (both ends included)."""
        return (
            self.active
            and (self.starts_on is None or self.starts_on <= day)
            and (self.ends_on is None or day <= self.ends_on)
        )


class ActionAward(models.Model):
    """Which rule and occasion a ledger row was for: the limits count these.

    Created with its entry and never changed.
    """

    entry = models.OneToOneField(
        PointsEntry,
        verbose_name=_("points entry"),
        primary_key=True,
        on_delete=models.CASCADE,  # goes with the ledger (erasure)
        related_name="action_award",
    )
    rule = models.ForeignKey(
        ActionRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="awards"
    )
    trigger = models.CharField(_("action"), max_length=12, choices=ActionTrigger.choices)
    # The occasion: the review's id, "2026" for a birthday, the network for social media …
    reference = models.CharField(_("reference"), max_length=60)
    network = models.CharField(_("network"), max_length=12, blank=True)
    # The Berlin calendar year the occasion fell in (a birthday's year, the day of a review).
    year = models.PositiveSmallIntegerField(_("year"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("action award")
        verbose_name_plural = _("action awards")
        # The member is the entry's: merging two members moves the entries, and the awards
        # follow. Exactly once per occasion is the entry's unique key.
        indexes = [models.Index(fields=["rule", "year"], name="loyalty_award_rule_year")]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.reference}"
