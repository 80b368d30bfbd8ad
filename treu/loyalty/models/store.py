"""The store: member cards scanned at the till, the till's settings, and what the till did.

A member card carries a random code (80 bits), never the customer number: a scanned or
photographed card tells nothing about the member and cannot be used to walk through the
others. Every action at the till (a purchase, stamps, a redemption) is a `TillAction`
row with the staff member and the form's idempotency key, so a double tap books once and
the last action can be undone within minutes by whoever did it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel
from treu.loyalty.models.points import Member
from treu.loyalty.models.rewards import Redemption
from treu.loyalty.models.stamps import StampCardType, StampEntry

TILL_SETTINGS_PK = 1


class MemberCard(models.Model):
    """The code on a member's card (QR and printed). Replacing the card gives a new code."""

    member = models.OneToOneField(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="card"
    )
    code = models.CharField(_("card code"), max_length=24, unique=True)
    issued_at = models.DateTimeField(_("issued"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("member card")
        verbose_name_plural = _("member cards")

    def __str__(self) -> str:
        return self.code


class VatRate(models.IntegerChoices):
    STANDARD = 1900, _("19 % (standard rate)")
    REDUCED = 700, _("7 % (reduced rate, e.g. food to take away)")
    NONE = 0, _("0 % (no VAT)")


class TillSettings(TimeStampedModel):
    """The one row of till settings (pk 1): which store purchases are booked in, at what VAT."""

    shop = models.ForeignKey(
        "commerce.Shop",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tax_rate_bp = models.PositiveIntegerField(
        _("VAT rate of store purchases"),
        choices=VatRate.choices,
        default=VatRate.STANDARD,
        help_text=_(
            "The till books one line per purchase at this rate; it matters for revenue net "
            "of VAT and for points on net amounts."
        ),
    )

    class Meta:
        verbose_name = _("till settings")
        verbose_name_plural = _("till settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(pk=TILL_SETTINGS_PK), name="loyalty_till_settings_one_row"
            ),
        ]

    def __str__(self) -> str:
        return str(self.shop or "–")


class TillActionKind(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    STAMPS = "stamps", _("Stamps")
    REDEMPTION = "redemption", _("Redemption")


class TillAction(models.Model):
    """One booking at the till, with who did it; `undone_at` once it was taken back."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="till_actions"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TillActionKind.choices)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    # What it booked: the store order (purchase), the stamp entry, or the redemption.
    amount_cents = models.BigIntegerField(_("amount (cents)"), null=True, blank=True)
    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    card_type = models.ForeignKey(
        StampCardType,
        verbose_name=_("card type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    stamps = models.PositiveIntegerField(_("stamps"), null=True, blank=True)
    stamp_entry = models.OneToOneField(
        StampEntry,
        verbose_name=_("stamp entry"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # Full cards (vouchers) the stamps made: a voucher handed out cannot be undone.
    cards_filled = models.PositiveSmallIntegerField(_("full cards"), default=0)
    redemption = models.OneToOneField(
        Redemption,
        verbose_name=_("redemption"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="till_action",
    )
    # A purchase: the member's tier before it, so an undo can take back an upgrade the
    # purchase alone brought (tiers otherwise only move down after a notice).
    tier_before = models.ForeignKey(
        "loyalty.Tier",
        verbose_name=_("tier before"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tier_held_before = models.DateTimeField(_("tier held until, before"), null=True, blank=True)
    tier_notice_before = models.DateTimeField(
        _("tier downgrade notice, before"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("till action")
        verbose_name_plural = _("till actions")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("use_till", _("Can use the cashier screen")),
            ("undo_any_tillaction", _("Can undo other staff members' till actions")),
        ]
        indexes = [
            models.Index(fields=["member", "-created_at", "-id"], name="loyalty_till_member"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="purchase", order__isnull=False, amount_cents__gt=0)
                | Q(kind="stamps", stamp_entry__isnull=False, stamps__gt=0)
                | Q(kind="redemption", redemption__isnull=False),
                name="loyalty_till_action_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"
