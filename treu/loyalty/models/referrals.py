"""Referrals: a member's personal code, the friends it brought, and the settings.

A friend is referred at most once (unique friend). The friend gets a welcome coupon of the
ordinary coupon model (no redemption behind it); the advocate gets points or store credit
once the friend's first order is past its return window. Suspicious referrals wait in
the review queue (`status = review`) with the reasons in `flags`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel
from treu.loyalty.models.points import Member
from treu.loyalty.models.rewards import Coupon

REFERRAL_SETTINGS_PK = 1


class AdvocateReward(models.TextChoices):
    POINTS = "points", _("Points")
    CREDIT = "credit", _("Store credit")


class ReferralSettings(TimeStampedModel):
    """The one row of referral settings (pk 1); without it referrals are off."""

    active = models.BooleanField(_("referrals active"), default=False)
    advocate_reward = models.CharField(
        _("the advocate gets"),
        max_length=8,
        choices=AdvocateReward.choices,
        default=AdvocateReward.POINTS,
    )
    advocate_points = models.PositiveIntegerField(
        _("points for the advocate"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
    )
    advocate_credit_cents = models.BigIntegerField(
        _("store credit for the advocate (cents)"),
        default=500,
        validators=[MinValueValidator(1), MaxValueValidator(100_000_00)],
    )
    friend_discount_cents = models.BigIntegerField(
        _("welcome discount for the friend (cents)"),
        default=1000,
        validators=[MinValueValidator(1), MaxValueValidator(100_000_00)],
    )
    friend_coupon_valid_days = models.PositiveSmallIntegerField(
        _("welcome coupon valid for (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    max_referrals_per_ip_week = models.PositiveSmallIntegerField(
        _("referrals from one IP address per week before review"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )

    class Meta:
        verbose_name = _("referral settings")
        verbose_name_plural = _("referral settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(pk=REFERRAL_SETTINGS_PK), name="loyalty_referral_settings_one_row"
            ),
        ]

    def __str__(self) -> str:
        return str(_("referral settings"))


class ReferralCode(models.Model):
    """A member's personal referral code: 60 random bits, like coupon codes."""

    member = models.OneToOneField(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="referral_code"
    )
    code = models.CharField(_("code"), max_length=20, unique=True)
    # A counter, not a log: the landing page needs no visitor's data.
    clicks = models.PositiveIntegerField(_("link opened"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("referral code")
        verbose_name_plural = _("referral codes")

    def __str__(self) -> str:
        return self.code


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the first order")
    REVIEW = "review", _("Waiting for review")
    REJECTED = "rejected", _("Rejected")
    REWARDED = "rewarded", _("Rewarded")
    VOID = "void", _("No reward (first order cancelled or returned)")


class ReferralFlag(models.TextChoices):
    SAME_EMAIL = "same_email", _("Same email address as the advocate")
    SAME_ADDRESS = "same_address", _("Same address as the advocate")
    SAME_NAME = "same_name", _("Same name (or payment name) as the advocate")
    NOT_NEW = "not_new", _("The friend has ordered before")
    IP_BURST = "ip_burst", _("Many referrals from one IP address this week")


class Referral(models.Model):
    """A friend brought by an advocate's code; rewarded at most once (conditional UPDATE)."""

    advocate = models.ForeignKey(
        Member, verbose_name=_("advocate"), on_delete=models.CASCADE, related_name="referrals"
    )
    friend = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("friend"),
        on_delete=models.CASCADE,
        related_name="referred_by",
    )
    status = models.CharField(
        _("status"), max_length=8, choices=ReferralStatus.choices, db_index=True
    )
    flags = models.JSONField(_("reasons for review"), default=list, blank=True)
    # HMAC of the truncated address (IPv4 /24, IPv6 /48), forgotten after 30 days.
    ip_hash = models.CharField(_("IP address (hashed)"), max_length=64, blank=True)
    coupon = models.OneToOneField(
        Coupon,
        verbose_name=_("welcome coupon"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referral",
    )
    source = models.CharField(_("source"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_reason = models.CharField(_("reason of the review"), max_length=200, blank=True)
    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=_("first order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rewarded_at = models.DateTimeField(_("rewarded"), null=True, blank=True)
    reward_points = models.PositiveIntegerField(_("points given"), default=0)
    reward_cents = models.BigIntegerField(_("store credit given (cents)"), default=0)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        permissions = [("review_referral", _("Can approve or reject referrals"))]
        indexes = [
            models.Index(fields=["ip_hash", "created_at"], name="loyalty_referral_ip"),
            models.Index(fields=["advocate", "-created_at"], name="loyalty_referral_advocate"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rewarded") | Q(rewarded_at__isnull=False),
                name="loyalty_referral_rewarded_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.advocate_id} → {self.friend_id}"

    def flag_labels(self) -> list[str]:
        labels = dict(ReferralFlag.choices)
        return [str(labels.get(flag, flag)) for flag in self.flags]
