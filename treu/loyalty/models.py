"""The loyalty programme: its settings, its members and the points ledger.

The ledger is append-only: a row's kind, points and references never change and
rows are never deleted (except by erasure of the customer). The one change a row
ever sees is the one-way release of pending purchase points to available once
the return window has passed. Member keeps the two sums (available and pending)
so lists need no aggregate; every service changes them in the same transaction
as the rows, and the database refuses a negative balance.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel

SETTINGS_PK = 1


class Membership(models.TextChoices):
    OPT_IN = "opt_in", _("Customers join explicitly")
    ALL = "all", _("Every customer is a member")


class PointsBasis(models.TextChoices):
    GROSS = "gross", _("Gross (including VAT)")
    NET = "net", _("Net (excluding VAT)")


class Rounding(models.TextChoices):
    DOWN = "down", _("Round down")
    HALF_UP = "half_up", _("Round half up")


class ProgramSettings(TimeStampedModel):
    """The one row of programme settings (pk 1); without it the defaults apply."""

    program_name = models.CharField(_("programme name"), max_length=100, default="Treueprogramm")
    point_name = models.CharField(
        _("name of the points"),
        max_length=40,
        default="Punkte",
        help_text=_("Plural, as customers read it: e.g. Punkte, Bohnen, Sterne."),
    )
    membership = models.CharField(
        _("membership"), max_length=16, choices=Membership.choices, default=Membership.OPT_IN
    )
    points_per_euro = models.DecimalField(
        _("points per euro"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
    )
    points_basis = models.CharField(
        _("points counted on"), max_length=8, choices=PointsBasis.choices, default=PointsBasis.GROSS
    )
    include_shipping = models.BooleanField(_("shipping earns points"), default=False)
    rounding = models.CharField(
        _("rounding"), max_length=8, choices=Rounding.choices, default=Rounding.DOWN
    )
    welcome_points = models.PositiveIntegerField(
        _("welcome points"), default=0, validators=[MaxValueValidator(1_000_000)]
    )
    return_window_days = models.PositiveSmallIntegerField(
        _("return window (days)"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "Purchase points stay pending this many days after delivery (or after the order "
            "when no delivery date is known), then become available."
        ),
    )

    class Meta:
        verbose_name = _("programme settings")
        verbose_name_plural = _("programme settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=SETTINGS_PK), name="loyalty_settings_one_row"),
            models.CheckConstraint(
                condition=Q(points_per_euro__gte=0), name="loyalty_points_per_euro_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.program_name


class Member(TimeStampedModel):
    """A customer in the programme; at most one per customer."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="loyalty_member",
    )
    joined_at = models.DateTimeField(_("joined"), db_index=True)
    # Ledger sums kept in the same transaction as the rows (see the module docstring).
    points_balance = models.BigIntegerField(_("available points"), default=0)
    pending_points = models.BigIntegerField(_("pending points"), default=0)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-joined_at", "-id"]
        permissions = [("adjust_points", _("Can adjust points by hand"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(points_balance__gte=0), name="loyalty_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(pending_points__gte=0), name="loyalty_pending_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(self.customer)


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")
    REVERSE = "reverse", _("Reversed")
    ADJUST = "adjust", _("Adjusted")


class EntryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    AVAILABLE = "available", _("Available")


class PointsEntry(models.Model):
    """One change of a member's points. Never edited; see the module docstring."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    points = models.BigIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=9, choices=EntryStatus.choices)
    available_at = models.DateTimeField(_("available from"))
    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # No database constraint: commerce replaces the lines of an order that changes before
    # anything was returned, and the ledger must keep saying which line earned the points.
    order_line = models.ForeignKey(
        "commerce.OrderLine",
        verbose_name=_("order line"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_rule = models.CharField(_("rule"), max_length=32, blank=True)
    # Points a reversal could not take back because the member had already spent them.
    unrecovered = models.BigIntegerField(_("not recovered"), default=0)
    # Makes a write happen once: "earn:line:17", "return:4:line:17", a caller's key …
    key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-created_at", "-id"], name="loyalty_entry_ledger"),
            models.Index(
                fields=["available_at"],
                condition=Q(status="pending"),
                name="loyalty_entry_due",
            ),
            models.Index(fields=["order"], name="loyalty_entry_order"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="loyalty_entry_key_once"),
            # A reversal of points already spent may take nothing back: it then records
            # only what it could not recover, so the ledger still tells the story.
            models.CheckConstraint(
                condition=~Q(points=0) | Q(kind="reverse", unrecovered__gt=0),
                name="loyalty_entry_points_not_zero",
            ),
            models.CheckConstraint(
                condition=Q(kind="adjust")
                | Q(kind="earn", points__gt=0)
                | Q(kind__in=["redeem", "expire"], points__lt=0)
                | Q(kind="reverse", points__lte=0),
                name="loyalty_entry_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(unrecovered__gte=0), name="loyalty_entry_unrecovered_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status="available") | Q(kind__in=["earn", "reverse"]),
                name="loyalty_entry_only_purchases_pend",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.points:+d}"


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
