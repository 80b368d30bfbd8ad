"""Aggregate tables of the recommendations and the replenishment timing.

Rebuilt as a whole by `recommendations.computation.compute` within the analytics recompute
(docs/metrics.md, "Empfehlungen"). Defined here, imported by `treu.analytics.models`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CustomerProduct(models.Model):
    """What one customer bought of one product: live orders, returned units left out.

    The purchase history the co-occurrence counts, the owned durables a recommendation
    leaves out and, for consumables, when the last purchase probably runs out.
    Erased customers have no rows.
    """

    # The key (customer, product) is the only index: every index costs each of the hundreds
    # of thousands of rows of a recompute a write. No foreign-key constraints either, for
    # the same reason (see analytics.CustomerMonth).
    pk = models.CompositePrimaryKey("customer_id", "product_id")
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    product = models.ForeignKey(
        "commerce.Product",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # read by customer (the unique index) or by run-out, never by product
        db_constraint=False,
    )
    first_at = models.DateTimeField(_("first purchase"))
    last_at = models.DateTimeField(_("last purchase"))
    orders = models.PositiveIntegerField(_("orders"))
    units = models.PositiveIntegerField(_("units"))
    last_quantity = models.PositiveIntegerField(_("units in the last order"))
    # 0.5 ** (days since the last purchase / half-life): how much this purchase still counts.
    weight = models.FloatField(_("recency weight"))
    # Consumables with a known reorder interval: days the last purchase lasts, and until when.
    supply_days = models.PositiveIntegerField(_("days of supply"), null=True)
    runout_at = models.DateTimeField(_("expected run-out"), null=True)

    class Meta:
        verbose_name = _("customer product")
        verbose_name_plural = _("customer products")
        # No index on the run-out: the daily "running out" query reads the table once (a
        # scan of a few hundred thousand narrow rows, about 0.1 s).

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.product_id}"


class RelatedProduct(models.Model):
    """ "Kunden, die X kauften, kauften auch Y": the top related products of a product."""

    product = models.ForeignKey(
        "commerce.Product", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    related = models.ForeignKey(
        "commerce.Product", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    score = models.FloatField(_("score"))  # recency-weighted cosine, 0 to 1
    support = models.PositiveIntegerField(_("customers who bought both"))

    class Meta:
        verbose_name = _("related product")
        verbose_name_plural = _("related products")
        ordering = ["product", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["product", "related"], name="analytics_related_unique"),
            models.CheckConstraint(
                condition=~Q(product=models.F("related")), name="analytics_related_not_self"
            ),
        ]
        indexes = [models.Index(fields=["product", "rank"], name="analytics_related_rank")]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.related_id} ({self.score:.3f})"


class ReorderBasis(models.TextChoices):
    PRODUCT = "product", _("this product's reorders")
    CATEGORY = "category", _("reorders in its category")
    CONFIGURED = "configured", _("the interval set on the product")


class ProductReorder(models.Model):
    """How long one unit of a consumable lasts, from observed reorders (or its fallbacks).

    An observation is the gap between a customer's consecutive purchases of the product,
    divided by the units bought at the first of the two (two bags last twice as long).
    """

    product = models.OneToOneField(
        "commerce.Product",
        on_delete=models.CASCADE,
        related_name="+",
        primary_key=True,
        db_constraint=False,
    )
    basis = models.CharField(_("based on"), max_length=12, choices=ReorderBasis.choices)
    observations = models.PositiveIntegerField(_("observed reorders"))
    own_observations = models.PositiveIntegerField(_("reorders of this product"))
    median_interval_days = models.DecimalField(
        _("median days between purchases"), max_digits=8, decimal_places=1, null=True
    )
    days_per_unit = models.DecimalField(_("days per unit (median)"), max_digits=8, decimal_places=1)
    days_per_unit_p25 = models.DecimalField(
        _("days per unit, lower quartile"), max_digits=8, decimal_places=1, null=True
    )
    days_per_unit_p75 = models.DecimalField(
        _("days per unit, upper quartile"), max_digits=8, decimal_places=1, null=True
    )

    class Meta:
        verbose_name = _("reorder interval")
        verbose_name_plural = _("reorder intervals")

    def __str__(self) -> str:
        return f"{self.product_id}: {self.days_per_unit} d/unit ({self.basis})"


class BestSeller(models.Model):
    """The shop's best sellers of the last 90 days: the fallback recommendation."""

    product = models.OneToOneField(
        "commerce.Product",
        on_delete=models.CASCADE,
        related_name="+",
        primary_key=True,
        db_constraint=False,
    )
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    orders = models.PositiveIntegerField(_("orders"))
    units = models.PositiveIntegerField(_("units"))

    class Meta:
        verbose_name = _("best seller")
        verbose_name_plural = _("best sellers")
        ordering = ["rank"]

    def __str__(self) -> str:
        return f"{self.rank}. {self.product_id}"
