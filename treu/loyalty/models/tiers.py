"""Tiers (Bronze, Silber, Gold …: qualification, benefits, each member's tier and staff
assignments) and points expiry (its settings and the warnings sent)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel
from treu.loyalty.models.points import SETTINGS_PK, Member

# ---------------------------------------------------------------- tiers


class TierBasis(models.TextChoices):
    SPEND = "spend", _("Spend (after refunds, cancelled orders excluded)")
    POINTS = "points", _("Points earned")


class TierPeriod(models.TextChoices):
    ROLLING = "rolling", _("Rolling 12 months")
    CALENDAR = "calendar", _("Calendar year")


class TierSettings(TimeStampedModel):
    """How members qualify for tiers (pk 1): the same measure for every tier."""

    basis = models.CharField(
        _("qualifies by"), max_length=8, choices=TierBasis.choices, default=TierBasis.SPEND
    )
    period = models.CharField(
        _("qualification period"),
        max_length=8,
        choices=TierPeriod.choices,
        default=TierPeriod.ROLLING,
    )
    notice_days = models.PositiveSmallIntegerField(
        _("downgrade notice (days)"),
        default=30,
        validators=[MaxValueValidator(365)],
        help_text=_("Members hear this many days ahead that they will move down a tier."),
    )
    vip_top_percent = models.DecimalField(
        _("VIP: top % of members by lifetime spend"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text=_("Empty: the invite-only tier is assigned by staff only."),
    )

    class Meta:
        verbose_name = _("tier settings")
        verbose_name_plural = _("tier settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(pk=SETTINGS_PK), name="loyalty_tier_settings_one_row"
            )
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class Tier(TimeStampedModel):
    """A level of the programme (Bronze, Silber, Gold …) with its benefits."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    rank = models.PositiveSmallIntegerField(
        _("order"), unique=True, help_text=_("Higher is better: 1 Bronze, 2 Silber, 3 Gold.")
    )
    # Euro cents or points, as the tier settings' basis says; ignored for invite-only tiers.
    threshold = models.BigIntegerField(_("threshold"), default=0)
    invite_only = models.BooleanField(
        _("invite only (VIP)"),
        default=False,
        help_text=_("Assigned by staff or by the VIP rule, never reached by spending."),
    )
    earning_multiplier = models.DecimalField(
        _("earning multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("10"))],
    )
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    early_access = models.BooleanField(_("early access"), default=False)
    birthday_gift = models.CharField(_("birthday gift"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__gte=0), name="loyalty_tier_threshold_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(earning_multiplier__gte=1), name="loyalty_tier_multiplier_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberTier(models.Model):
    """A member's tier; members without a row (or without a tier) are in no tier.

    `held_until`: the tier holds at least until then (the end of the qualification period
    in which it was last reached); a lower qualification moves the member down only then.
    """

    member = models.OneToOneField(
        Member, primary_key=True, on_delete=models.CASCADE, related_name="tier_state"
    )
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), null=True, blank=True, on_delete=models.SET_NULL
    )
    held_until = models.DateTimeField(_("held until"), null=True, blank=True)
    # The downgrade announced (the held_until it was announced for), so it is told once.
    notice_for = models.DateTimeField(null=True, blank=True)
    # Set by staff: the recompute leaves this member's tier alone.
    pinned = models.BooleanField(_("assigned by staff"), default=False)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("member tier")
        verbose_name_plural = _("member tiers")
        permissions = [("assign_tier", _("Can assign tiers by hand"))]
        indexes = [models.Index(fields=["tier"], name="loyalty_member_tier")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.tier_id}"


class TierAssignment(models.Model):
    """The audit trail of tiers staff assigned or removed by hand (append-only)."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), null=True, blank=True, on_delete=models.SET_NULL
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tier assignment")
        verbose_name_plural = _("tier assignments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.tier_id}"


# ---------------------------------------------------------------- expiry


class ExpiryMode(models.TextChoices):
    OFF = "off", _("Points do not expire")
    INACTIVITY = "inactivity", _("After months without a purchase")
    LIFETIME = "lifetime", _("A fixed number of months after they were earned")


class ExpirySettings(TimeStampedModel):
    """Whether and when points expire (pk 1). `enabled_at`: nothing expires before a period."""

    mode = models.CharField(
        _("points expire"), max_length=10, choices=ExpiryMode.choices, default=ExpiryMode.OFF
    )
    months = models.PositiveSmallIntegerField(
        _("months"), default=12, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    enabled_at = models.DateTimeField(_("enabled"), null=True, blank=True)

    class Meta:
        verbose_name = _("expiry settings")
        verbose_name_plural = _("expiry settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(pk=SETTINGS_PK), name="loyalty_expiry_settings_one_row"
            )
        ]

    def __str__(self) -> str:
        return self.get_mode_display()


class ExpiryWarning(models.Model):
    """A warning sent (`loyalty.points_expiring`), so each is sent once."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    days_before = models.PositiveSmallIntegerField()
    points = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "expires_at", "days_before"], name="loyalty_expiry_warning_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.points} @ {self.expires_at}"
