"""Event kinds loyalty publishes, for messaging, webhooks and the customer timeline."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core import events
from treu.core.events import TimelineEntry

POINTS_CHANGED = "loyalty.points_changed"
MEMBER_JOINED = "loyalty.member_joined"


def _member_url(event) -> str:
    member_id = event.payload.get("member_id")
    return reverse("loyalty:member_detail", args=[member_id]) if member_id else ""


def _points_changed(event) -> TimelineEntry:
    p = event.payload
    available, pending = int(p.get("available_change", 0)), int(p.get("pending_change", 0))
    names = {"points": p.get("point_name") or "Punkte"}
    kind, rule = p.get("kind"), p.get("rule")
    if kind == "release":
        title = _("%(count)s %(points)s now available") % {**names, "count": available}
    elif kind == "earn" and rule == "welcome":
        title = _("%(count)s %(points)s welcome bonus") % {**names, "count": available}
    elif kind == "earn":
        title = _("%(count)s %(points)s earned") % {**names, "count": available + pending}
    elif kind == "redeem":
        title = _("%(count)s %(points)s redeemed") % {**names, "count": -available}
    elif kind == "expire":
        title = _("%(count)s %(points)s expired") % {**names, "count": -available}
    elif kind == "reverse":
        title = _("%(count)s %(points)s taken back") % {**names, "count": -(available + pending)}
    else:
        title = _("%(points)s adjusted by %(count)+d") % {**names, "count": available + pending}
    detail = _("Balance %(balance)s, pending %(pending)s") % {
        "balance": p.get("balance", 0),
        "pending": p.get("pending", 0),
    }
    return TimelineEntry(title=title, detail=detail, url=_member_url(event), icon="star")


def _member_joined(event) -> TimelineEntry:
    return TimelineEntry(
        title=_("Joined the loyalty programme"),
        detail=event.payload.get("program", ""),
        url=_member_url(event),
        icon="star",
    )


events.register_kind(
    POINTS_CHANGED, label=gettext_lazy("Loyalty points changed"), describe=_points_changed
)
events.register_kind(
    MEMBER_JOINED, label=gettext_lazy("Joined the loyalty programme"), describe=_member_joined
)


TIER_CHANGED = "loyalty.tier_changed"
TIER_DOWNGRADE_NOTICE = "loyalty.tier_downgrade_notice"
POINTS_EXPIRING = "loyalty.points_expiring"


def _tier_changed(event) -> TimelineEntry:
    p = event.payload
    if p.get("to_tier") is None:
        title = _("Left tier %(tier)s") % {"tier": p.get("from_tier")}
    elif p.get("direction") == "up":
        title = _("Moved up to tier %(tier)s") % {"tier": p.get("to_tier")}
    else:
        title = _("Moved down to tier %(tier)s") % {"tier": p.get("to_tier")}
    detail = _("Assigned by staff") if p.get("cause") == "staff" else ""
    return TimelineEntry(title=title, detail=detail, url=_member_url(event), icon="star")


def _tier_downgrade_notice(event) -> TimelineEntry:
    p = event.payload
    title = _("Tier %(tier)s ends on %(date)s") % {
        "tier": p.get("from_tier"),
        "date": _german_date(p.get("on")),
    }
    return TimelineEntry(title=title, detail="", url=_member_url(event), icon="star")


def _points_expiring(event) -> TimelineEntry:
    p = event.payload
    title = _("%(count)s %(points)s expire on %(date)s") % {
        "count": p.get("points", 0),
        "points": p.get("point_name") or "Punkte",
        "date": _german_date(p.get("expires_on")),
    }
    return TimelineEntry(title=title, detail="", url=_member_url(event), icon="star")


def _german_date(iso: str | None) -> str:
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{day}.{month}.{year}"


events.register_kind(
    TIER_CHANGED, label=gettext_lazy("Loyalty tier changed"), describe=_tier_changed
)
events.register_kind(
    TIER_DOWNGRADE_NOTICE,
    label=gettext_lazy("Loyalty tier about to end"),
    describe=_tier_downgrade_notice,
)
events.register_kind(
    POINTS_EXPIRING, label=gettext_lazy("Loyalty points about to expire"), describe=_points_expiring
)
