"""Analytics: retention figures, RFM and the predictive customer value."""

import os

# The fits work on vectors of 10^5 numbers and a handful of parameters: BLAS threads only
# wait for each other there, and on a busy two-core machine a 4-parameter L-BFGS step took
# 10 ms instead of 0.1 ms. Effective when numpy is first imported after this: this package
# is imported before any of its modules, and nothing earlier in treu loads numpy. An
# explicit setting in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
