"""How analytics' per-customer rows leave the system (see treu.core.privacy)."""

from __future__ import annotations

from treu.analytics.models import (
    ActivitySpell,
    AnalyticsSettings,
    BestSeller,
    CohortCell,
    CustomerFigures,
    CustomerMonth,
    CustomerPrediction,
    CustomerProduct,
    CustomerTotals,
    Experiment,
    PeriodFigures,
    PredictionFit,
    ProductReorder,
    RecomputeRun,
    RelatedProduct,
    ReportMail,
    RfmCell,
    SegmentFigures,
    SegmentMove,
)
from treu.core import privacy

# After an erasure the next recompute rebuilds them for the anonymised customer the kept
# orders belong to: figures without a person.
RETENTION = "Aus den Bestellungen abgeleitet; bei jeder Neuberechnung neu erstellt."

privacy.register(
    CustomerFigures,
    customer="customer",
    fields=[
        "first_order_at",
        "last_order_at",
        "orders",
        "revenue_cents",
        "recency_score",
        "frequency_score",
        "monetary_score",
        "segment",
    ],
    erasure=privacy.Erasure.DELETE,
    retention=RETENTION,
)
privacy.register(
    CustomerMonth,
    customer="customer",
    fields=["month_index", "orders", "revenue_cents"],
    erasure=privacy.Erasure.DELETE,
    retention=RETENTION,
)
privacy.register(
    ActivitySpell,
    customer="customer",
    fields=["first_month", "last_month"],
    erasure=privacy.Erasure.DELETE,
    retention=RETENTION,
)
privacy.register(
    CustomerTotals,
    customer="customer",
    fields=["orders", "revenue_cents"],
    erasure=privacy.Erasure.DELETE,
    retention="Arbeitstabelle der Neuberechnung, außerhalb davon leer.",
)
privacy.register(
    CustomerProduct,
    customer="customer",
    fields=["product__sku", "first_at", "last_at", "orders", "units", "runout_at"],
    erasure=privacy.Erasure.DELETE,
    retention=RETENTION,
)
privacy.register(
    CustomerPrediction,
    customer="customer",
    fields=["p_alive", "expected_90", "expected_365", "next_order_on", "clv_cents", "churn_risk"],
    erasure=privacy.Erasure.DELETE,
    retention=RETENTION,
)
for model in (RelatedProduct, ProductReorder, BestSeller):
    privacy.not_personal(model, reason="Counts per product over all customers, about no person.")
for model in (
    AnalyticsSettings,
    PeriodFigures,
    CohortCell,
    SegmentFigures,
    SegmentMove,
    RfmCell,
    PredictionFit,
):
    privacy.not_personal(model, reason="Shop-wide settings and counts, about no single person.")
privacy.not_personal(RecomputeRun, reason="When the figures were computed and by which staff user.")
privacy.not_personal(ReportMail, reason="When the monthly report went to which staff addresses.")
privacy.not_personal(Experiment, reason="The owner's notes on a measure, about no single customer.")
