"""Event kinds of the stamp cards, for messaging, webhooks and the customer timeline.

Kept beside `events.py` (not in it) while rewards and tiers are built in parallel.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from treu.core import events
from treu.core.events import TimelineEntry
from treu.loyalty.events import _member_url

STAMP_ADDED = "loyalty.stamp_added"
STAMP_CARD_FULL = "loyalty.stamp_card_full"


def _stamp_added(event) -> TimelineEntry:
    p = event.payload
    change = int(p.get("change", 0))
    names = {"card": p.get("card_name", "?")}
    if change >= 0:
        title = ngettext("%(count)d stamp on %(card)s", "%(count)d stamps on %(card)s", change) % {
            **names,
            "count": change,
        }
    else:
        title = ngettext(
            "%(count)d stamp taken back from %(card)s",
            "%(count)d stamps taken back from %(card)s",
            -change,
        ) % {**names, "count": -change}
    detail = _("%(stamps)s of %(needed)s on the current card") % {
        "stamps": p.get("stamps", 0),
        "needed": p.get("needed", "?"),
    }
    return TimelineEntry(title=title, detail=detail, url=_member_url(event), icon="star")


def _card_full(event) -> TimelineEntry:
    p = event.payload
    return TimelineEntry(
        title=_("Stamp card %(card)s full") % {"card": p.get("card_name", "?")},
        detail=_("Voucher %(code)s: %(reward)s")
        % {
            "code": p.get("code", "?"),
            "reward": p.get("reward", ""),
        },
        url=_member_url(event),
        icon="star",
    )


events.register_kind(STAMP_ADDED, label=gettext_lazy("Stamps collected"), describe=_stamp_added)
events.register_kind(STAMP_CARD_FULL, label=gettext_lazy("Stamp card full"), describe=_card_full)
