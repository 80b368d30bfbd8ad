"""Event kinds of the till, for messaging, webhooks and the customer timeline.

Kept beside `events.py` (not in it) while other loyalty features are built in parallel.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core import events
from treu.core.events import TimelineEntry
from treu.loyalty.events import _member_url

REDEMPTION_CANCELLED = "loyalty.redemption_cancelled"


def _redemption_cancelled(event) -> TimelineEntry:
    p = event.payload
    detail = _("%(count)s %(points)s given back") % {
        "count": p.get("points", 0),
        "points": p.get("point_name") or "Punkte",
    }
    if p.get("code"):
        detail += " · " + _("coupon %(code)s is void") % {"code": p["code"]}
    return TimelineEntry(
        title=_("Redemption cancelled: %(reward)s") % {"reward": p.get("reward", "?")},
        detail=detail,
        url=_member_url(event),
        icon="star",
    )


events.register_kind(
    REDEMPTION_CANCELLED,
    label=gettext_lazy("Redemption cancelled"),
    describe=_redemption_cancelled,
)
