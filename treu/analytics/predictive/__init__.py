"""Predictive customer value: BG/NBD (purchases) and Gamma-Gamma (spend) in numpy/scipy.

No Django in this package; `treu.analytics.prediction` reads the orders, fits, and stores
the predictions. Definitions in docs/metrics.md ("Kundenwert-Prognose").
"""

from treu.analytics.predictive import bgnbd, clv, gamma_gamma
from treu.analytics.predictive.bgnbd import BgNbdParams
from treu.analytics.predictive.gamma_gamma import GammaGammaParams

__all__ = ["BgNbdParams", "GammaGammaParams", "bgnbd", "clv", "gamma_gamma"]
