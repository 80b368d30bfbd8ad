"""The analytics block on the customer's 360° page: RFM segment and the forecast."""

from __future__ import annotations

from treu.analytics import selectors
from treu.analytics.models import ChurnRisk


def customer_value_panel(request, customer) -> dict | None:
    if customer.erased_at:
        return None
    figures = selectors.customer_rfm(customer.pk)
    prediction = selectors.customer_prediction(customer.pk)
    if figures is None and prediction is None:
        return None  # not computed yet (a new customer, or no recompute)
    risky = prediction is not None and prediction.churn_risk in (
        ChurnRisk.HIGH,
        ChurnRisk.VERY_HIGH,
    )
    return {"customer": customer, "figures": figures, "prediction": prediction, "risky": risky}
