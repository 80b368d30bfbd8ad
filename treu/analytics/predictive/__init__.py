"""Predictive customer value: BG/NBD (purchases) and Gamma-Gamma (spend) in numpy/scipy.

No Django in this package; `treu.analytics.prediction` reads the orders, fits, and stores
the predictions. Definitions in docs/metrics.md ("Kundenwert-Prognose").
"""

import os

# The fits work on vectors of 10^5 numbers and a handful of parameters: BLAS threads only
# wait for each other there, and on a busy two-core machine a 4-parameter L-BFGS step took
# 10 ms instead of 0.1 ms. Effective when numpy is first imported after this (the worker
# and the web process import nothing else that loads it); an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from treu.analytics.predictive import bgnbd  # noqa: E402, clv, gamma_gamma
from treu.analytics.predictive.bgnbd import BgNbdParams  # noqa: E402
from treu.analytics.predictive.gamma_gamma import GammaGammaParams  # noqa: E402

__all__ = ["BgNbdParams", "GammaGammaParams", "bgnbd", "clv", "gamma_gamma"]
