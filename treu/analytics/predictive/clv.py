"""Predicted customer lifetime value: expected purchases month by month (BG/NBD) times the
expected spend per purchase (Gamma-Gamma), discounted to today."""

from __future__ import annotations

import numpy as np

from treu.analytics.predictive import bgnbd, gamma_gamma


def monthly_rate(yearly: float) -> float:
    """The monthly discount rate equivalent to a yearly one, compounded: (1 + y)^(1/12) − 1."""
    return (1 + yearly) ** (1 / 12) - 1


def discounted_clv(
    purchases: bgnbd.BgNbdParams,
    spend: gamma_gamma.GammaGammaParams,
    x,
    t_x,
    T,
    m,
    *,
    months: int = 12,
    month_length: float,
    monthly_discount: float,
) -> np.ndarray:
    """Σ_{i=1..months} E[spend] · (E[Y(i·L)] − E[Y((i−1)·L)]) / (1 + d)^i.

    `month_length` L is a month in the time unit of the BG/NBD fit; purchases of month i are
    discounted by i months (as `lifetimes.customer_lifetime_value` does).
    """
    value = gamma_gamma.conditional_expected_spend(spend, x, m)
    previous = np.zeros(np.shape(np.asarray(x, dtype=float)))
    total = np.zeros_like(previous)
    for i in range(1, months + 1):
        cumulative = bgnbd.conditional_expected_purchases(purchases, i * month_length, x, t_x, T)
        total += (cumulative - previous) / (1 + monthly_discount) ** i
        previous = cumulative
    return value * total
