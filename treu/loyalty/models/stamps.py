"""Stamp cards, "10 Stempel = 1 Kaffee gratis": one stamp per qualifying unit bought
(online or in the store); a full card turns into a free-item voucher and the next card
starts with the overflow. The stamps a member holds always reconcile with the stamp ledger:
sum(StampEntry.stamps) = StampCard.stamps + sum(StampVoucher.stamps), per member and type.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel
from treu.loyalty.models.points import LedgerRow, Member


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


class StampEntry(LedgerRow):
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
