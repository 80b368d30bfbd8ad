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
from django.db.models import F, Q
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


# -- Stamp cards --------------------------------------------------------------------------------
# "10 Stempel = 1 Kaffee gratis": one stamp per qualifying unit bought (online or in the
# store); a full card turns into a free-item voucher and the next card starts with the
# overflow. The stamps a member holds always reconcile with the stamp ledger:
# sum(StampEntry.stamps) = StampCard.stamps + sum(StampVoucher.stamps), per member and type.


class StampCardType(TimeStampedModel):
    """A kind of stamp card the shop offers: what earns a stamp and what a full card gives."""

    name = models.CharField(_("name"), max_length=100)
    stamps_needed = models.PositiveSmallIntegerField(
        _("stamps for a full card"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    # One stamp per unit of a line whose SKU is listed or whose product is in a category.
    skus = models.JSONField(_("SKUs"), default=list, blank=True)
    categories = models.ManyToManyField(
        "commerce.Category", verbose_name=_("categories"), blank=True, related_name="+"
    )
    reward_sku = models.CharField(_("SKU of the free item"), max_length=64)
    reward_description = models.CharField(
        _("reward"),
        max_length=200,
        help_text=_("As the customer reads it, e.g. 1 Kaffee nach Wahl gratis."),
    )
    voucher_valid_days = models.PositiveSmallIntegerField(
        _("voucher valid (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: no end.")
    )

    class Meta:
        verbose_name = _("stamp card type")
        verbose_name_plural = _("stamp card types")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stamps_needed__gte=1), name="loyalty_stamp_type_needs_stamps"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="loyalty_stamp_type_window",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def runs_on(self, day) -> bool:
        """Whether purchases on this (local) day collect stamps."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class StampCard(TimeStampedModel):
    """A member's current card of one type: the stamps on it, and how many cards filled."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="stamp_cards"
    )
    card_type = models.ForeignKey(
        StampCardType, verbose_name=_("card type"), on_delete=models.PROTECT, related_name="cards"
    )
    stamps = models.PositiveIntegerField(_("stamps"), default=0)
    cards_filled = models.PositiveIntegerField(_("full cards"), default=0)

    class Meta:
        verbose_name = _("stamp card")
        verbose_name_plural = _("stamp cards")
        ordering = ["card_type__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "card_type"], name="loyalty_one_card"),
            models.CheckConstraint(condition=Q(stamps__gte=0), name="loyalty_stamps_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.card_type}: {self.stamps}"


class StampEntryKind(models.TextChoices):
    PURCHASE = "purchase", _("Online purchase")
    STORE = "store", _("In the store")
    REVERSE = "reverse", _("Taken back")


class StampEntry(models.Model):
    """One change of a member's stamps of one card type. Append-only, like PointsEntry."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="stamp_entries"
    )
    card_type = models.ForeignKey(
        StampCardType, verbose_name=_("card type"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=StampEntryKind.choices)
    stamps = models.IntegerField(_("stamps"))
    # Why stamps were taken back: "cancellation", "return" or "order_changed".
    cause = models.CharField(_("cause"), max_length=16, blank=True)
    # Stamps a take-back could not remove because the card they were on is already a voucher.
    unrecovered = models.PositiveIntegerField(_("not recovered"), default=0)
    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # As in PointsEntry: the shop may replace an order's lines, the ledger keeps the old id.
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
    key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("stamp entry")
        verbose_name_plural = _("stamp entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-created_at", "-id"], name="loyalty_stamp_ledger"),
            models.Index(fields=["order"], name="loyalty_stamp_order"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="loyalty_stamp_key_once"),
            models.CheckConstraint(
                condition=Q(kind__in=["purchase", "store"], stamps__gt=0)
                | Q(kind="reverse", stamps__lte=0),
                name="loyalty_stamp_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(stamps=0) | Q(unrecovered__gt=0), name="loyalty_stamp_not_zero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.stamps:+d}"


class StampVoucher(models.Model):
    """What a full card turned into: a free item, redeemable once by its code until it expires.

    Self-contained until the rewards catalogue exists; see docs/loyalty.md.
    """

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="stamp_vouchers"
    )
    card = models.ForeignKey(
        StampCard, verbose_name=_("stamp card"), on_delete=models.CASCADE, related_name="vouchers"
    )
    card_type = models.ForeignKey(
        StampCardType, verbose_name=_("card type"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("code"), max_length=20, unique=True)
    # The card's stamps it took (the type's size when it filled, which staff may change later).
    stamps = models.PositiveSmallIntegerField(_("stamps"))
    reward_sku = models.CharField(_("SKU of the free item"), max_length=64)
    reward_description = models.CharField(_("reward"), max_length=200)
    issued_at = models.DateTimeField(_("issued"))
    expires_at = models.DateTimeField(_("valid until"))
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("redeemed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("stamp voucher")
        verbose_name_plural = _("stamp vouchers")
        ordering = ["-issued_at", "-id"]
        permissions = [("redeem_stampvoucher", _("Can redeem stamp vouchers"))]
        indexes = [models.Index(fields=["member", "-issued_at"], name="loyalty_voucher_member")]
        constraints = [
            models.CheckConstraint(condition=Q(stamps__gte=1), name="loyalty_voucher_stamps"),
        ]

    def __str__(self) -> str:
        return self.code
