"""What the two kinds of earning rules (purchases, actions) share."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleLimit(models.TextChoices):
    """How often one member can earn by a rule."""

    ONCE = "once", _("Once per member")
    PER_YEAR = "per_year", _("Once per member and calendar year")
    UNLIMITED = "unlimited", _("Every time (each order or occasion once)")
