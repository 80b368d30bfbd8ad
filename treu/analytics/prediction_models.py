"""Analytics' predictive tables: one fit per recompute and the predictions per customer.

Imported by `treu.analytics.models` (Django finds the models there); kept apart from the
descriptive aggregates. Filled by `treu.analytics.prediction` during the recompute.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ChurnRisk(models.TextChoices):
    """Bands of P(alive) for customers who bought again; one-time buyers apart (the model
    counts them alive until they buy again, so their risk is not a P(alive) question)."""

    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")
    VERY_HIGH = "very_high", _("very high")
    ONE_TIME = "one_time", _("one-time buyer")


# Lower bounds of P(alive) per band (docs/metrics.md); below the last: very high.
CHURN_BANDS = ((ChurnRisk.LOW, 0.75), (ChurnRisk.MEDIUM, 0.5), (ChurnRisk.HIGH, 0.25))


class FitStatus(models.TextChoices):
    OK = "ok", _("Predictions available")
    PURCHASES_ONLY = "purchases_only", _("Purchase predictions only, no customer value")
    INSUFFICIENT = "insufficient", _("Not enough data")
    FAILED = "failed", _("Model did not fit")


class PredictionFit(models.Model):
    """The models fitted in one recompute: parameters, diagnostics and the holdout check.

    BG/NBD time unit: weeks (α in weeks); Gamma-Gamma money unit: cents (γ in cents).
    `problems` lists the reasons (codes of `prediction.PROBLEMS`) when predictions are
    missing or partial.
    """

    run = models.OneToOneField(
        "analytics.RecomputeRun", on_delete=models.CASCADE, related_name="prediction_fit"
    )
    status = models.CharField(_("status"), max_length=16, choices=FitStatus.choices)
    problems = models.JSONField(_("problems"), default=list)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    repeat_customers = models.PositiveIntegerField(_("customers who bought again"), default=0)
    history_days = models.PositiveIntegerField(_("history (days)"), default=0)
    r = models.FloatField(null=True)
    alpha = models.FloatField(null=True)
    a = models.FloatField(null=True)
    b = models.FloatField(null=True)
    p = models.FloatField(null=True)
    q = models.FloatField(null=True)
    gamma = models.FloatField(null=True)
    spend_frequency_correlation = models.FloatField(null=True)
    discount_yearly_pct = models.PositiveSmallIntegerField(default=10)
    diagnostics = models.JSONField(default=dict)  # log-likelihoods, standard errors, steps
    calibration = models.JSONField(default=dict)  # the holdout check (see prediction.py)
    # Per churn-risk band: [customers, predicted value in cents, expected purchases in 365
    # days], so the page never groups the prediction table per request.
    bands = models.JSONField(default=dict)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("prediction fit")
        verbose_name_plural = _("prediction fits")

    def __str__(self) -> str:
        return f"{self.run_id}: {self.status}"

    @property
    def has_purchases(self) -> bool:
        return self.status in (FitStatus.OK, FitStatus.PURCHASES_ONLY)

    @property
    def has_value(self) -> bool:
        return self.status == FitStatus.OK

    # What the parameters say, in the shop's words (docs/metrics.md).
    @property
    def purchases_per_year(self) -> float | None:
        """Mean purchases a year of a customer while active: 52 r/α (α in weeks)."""
        return 52 * self.r / self.alpha if self.r and self.alpha else None

    @property
    def dropout_chance(self) -> float | None:
        """Mean chance of leaving after a purchase: a/(a+b)."""
        return self.a / (self.a + self.b) if self.a and self.b else None

    @property
    def mean_spend_cents(self) -> int | None:
        """Mean value of a purchase in the model: pγ/(q−1), to the cent."""
        if self.p is None or self.q is None or self.gamma is None or self.q <= 1:
            return None
        return round(self.p * self.gamma / (self.q - 1))

    @property
    def gamma_cents(self) -> int | None:
        return round(self.gamma) if self.gamma is not None else None


class CustomerPrediction(models.Model):
    """One customer's predictions as of the last recompute (customers with an order)."""

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        primary_key=True,
        db_constraint=False,  # written in bulk each recompute, like CustomerFigures
    )
    repeat_purchases = models.PositiveIntegerField(_("repeat purchases"))  # x: Berlin days
    recency_days = models.PositiveIntegerField()  # t_x: first to last purchase day
    age_days = models.PositiveIntegerField()  # T: first purchase day to the recompute
    p_alive = models.FloatField(_("P(alive)"))
    expected_90 = models.FloatField(_("expected purchases, 90 days"))
    expected_365 = models.FloatField(_("expected purchases, 365 days"))
    next_order_on = models.DateField(_("expected next order"), null=True)
    clv_cents = models.BigIntegerField(_("predicted 12-month value"), null=True)
    churn_risk = models.CharField(_("churn risk"), max_length=16, choices=ChurnRisk.choices)

    class Meta:
        verbose_name = _("customer prediction")
        verbose_name_plural = _("customer predictions")
        indexes = [
            models.Index(fields=["churn_risk", "-clv_cents"], name="analytics_pred_risk"),
            models.Index(fields=["-clv_cents"], name="analytics_pred_clv"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(p_alive__gte=0, p_alive__lte=1), name="analytics_pred_p_alive_0_1"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.p_alive:.2f}"
