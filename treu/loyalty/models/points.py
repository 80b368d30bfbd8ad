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
    # The store-credit ledger's sum (CreditEntry), kept like the points sums.
    credit_cents = models.BigIntegerField(_("store credit (cents)"), default=0)

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
            models.CheckConstraint(
                condition=Q(credit_cents__gte=0), name="loyalty_credit_not_negative"
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


class LedgerRow(models.Model):
    """What every ledger row (points, stamps) may point at: the order and line it came from,
    the staff member who wrote it by hand and why."""

    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # No database constraint: commerce replaces the lines of an order that changes before
    # anything was returned, and the ledger must keep saying which line a row came from.
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

    class Meta:
        abstract = True


class PointsEntry(LedgerRow):
    """One change of a member's points. Never edited; see the module docstring."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    points = models.BigIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=9, choices=EntryStatus.choices)
    available_at = models.DateTimeField(_("available from"))
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
