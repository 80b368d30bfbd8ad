"""Web processes do not load numpy and scipy: only a recompute (in the worker) needs them.

With them loaded, every request paid for it: the batch API with points spent about a
tenth more CPU per call (the garbage collector walks their objects too)."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

CHECK = """
import sys
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every app's views, the API and its routers
import treu.api.main  # noqa: F401
loaded = sorted(m for m in ("numpy", "scipy") if m in sys.modules)
print(",".join(loaded))
"""


def test_starting_the_web_app_loads_neither_numpy_nor_scipy():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "treu.settings"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == ""
