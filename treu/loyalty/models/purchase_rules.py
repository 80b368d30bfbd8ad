"""Earning rules for purchases: extra points per euro, per item or per order, and multipliers
on the purchase points, each for a window of days, some goods, some tiers, with a limit per
customer. How they are counted: docs/loyalty.md, *Earning rules*.

A rule's bonus points are ordinary ledger rows (`PointsEntry`, `source_rule` =
`purchase_rule:<id>`); `PurchaseRuleUse` records which order used up a limited rule.
"""

from __future__ import annotations

from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel
from treu.loyalty.models.points import Member
from treu.loyalty.models.rules import RuleLimit
from treu.loyalty.models.tiers import Tier

# PointsEntry.source_rule of a rule's bonus rows: "purchase_rule:17".
RULE_TAG_PREFIX = "purchase_rule:"


class PurchaseRuleKind(models.TextChoices):
    PER_EURO = "per_euro", _("Extra points per euro")
    PER_ITEM = "per_item", _("Points per item")
    PER_ORDER = "per_order", _("Points per order")
    MULTIPLIER = "multiplier", _("Multiplier on the purchase points")


class PurchaseRule(TimeStampedModel):
    """One earning rule for purchases; see the module docstring.

    `first_awarded_at`: set when the rule first gave points. From then on what it gives
    (kind, value, goods, minimum, limit) is fixed, so every row in the ledger can still be
    explained and taken back by the rule that wrote it; name, window, tiers and the active
    flag stay editable.
    """

    # Shared with the action rules (same names, so the two can share an abstract base).
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(
        _("until"), null=True, blank=True, help_text=_("The last day included. Empty: no end.")
    )
    limit = models.CharField(
        _("limit per customer"),
        max_length=9,
        choices=RuleLimit.choices,
        default=RuleLimit.UNLIMITED,
    )
    eligible_tiers = models.ManyToManyField(
        Tier,
        verbose_name=_("tiers"),
        blank=True,
        related_name="+",
        help_text=_("Empty: every member."),
    )
    # What the rule gives.
    kind = models.CharField(_("kind"), max_length=10, choices=PurchaseRuleKind.choices)
    points_per_euro = models.DecimalField(
        _("extra points per euro"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
    )
    points = models.PositiveIntegerField(
        _("points"), null=True, blank=True, validators=[MaxValueValidator(1_000_000)]
    )
    multiplier = models.DecimalField(
        _("multiplier"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
    # Which goods: a line counts when its SKU is listed or its product is in a listed
    # category; neither listed: all goods.
    skus = models.JSONField(_("SKUs"), default=list, blank=True)
    categories = models.ManyToManyField(
        "commerce.Category", verbose_name=_("categories"), blank=True, related_name="+"
    )
    min_order_cents = models.BigIntegerField(_("minimum order value (cents)"), default=0)
    first_awarded_at = models.DateTimeField(_("first points given"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase rule")
        verbose_name_plural = _("purchase rules")
        ordering = ["-active", "starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="loyalty_purchase_rule_window",
            ),
            models.CheckConstraint(
                condition=Q(min_order_cents__gte=0), name="loyalty_purchase_rule_min_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="per_euro", points_per_euro__gt=0)
                | Q(kind__in=["per_item", "per_order"], points__gt=0)
                | Q(kind="multiplier", multiplier__gt=1),
                name="loyalty_purchase_rule_value_of_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tag(self) -> str:
        return f"{RULE_TAG_PREFIX}{self.pk}"

    def runs_on(self, day: date) -> bool:
        """Whether orders placed on this (Berlin) day earn by the rule; both ends included."""
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class PurchaseRuleUse(models.Model):
    """An order that used up a limited rule (once / once a year) for its member.

    Written with the bonus rows, under the member's lock; `voided_at` is set when the
    order no longer qualifies (cancelled, or returned below the rule's minimum) and its
    bonus was taken back: the member may then earn the rule with another order.
    """

    rule = models.ForeignKey(
        PurchaseRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="uses"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    order = models.ForeignKey(
        "commerce.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year of the order"))  # Berlin calendar year
    voided_at = models.DateTimeField(_("given back"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("use of a purchase rule")
        verbose_name_plural = _("uses of purchase rules")
        indexes = [models.Index(fields=["member", "rule"], name="loyalty_rule_use_member")]
        constraints = [
            models.UniqueConstraint(fields=["rule", "order"], name="loyalty_rule_use_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.order_id}"
