"""Event kinds segments publish: a customer entered or left a segment (automations start
from them). Not on the timeline: nightly refreshes would bury what the customer did."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core import events
from treu.core.events import TimelineEntry

SEGMENT_ENTERED = "segment.entered"
SEGMENT_LEFT = "segment.left"


def _url(event) -> str:
    segment_id = event.payload.get("segment_id")
    return reverse("messaging:segment_detail", args=[segment_id]) if segment_id else ""


def _entered(event) -> TimelineEntry:
    title = _("Entered segment %(name)s") % {"name": event.payload.get("segment", "?")}
    return TimelineEntry(title=title, detail="", url=_url(event), icon="dot")


def _left(event) -> TimelineEntry:
    title = _("Left segment %(name)s") % {"name": event.payload.get("segment", "?")}
    return TimelineEntry(title=title, detail="", url=_url(event), icon="dot")


events.register_kind(
    SEGMENT_ENTERED, label=gettext_lazy("Entered a segment"), describe=_entered, on_timeline=False
)
events.register_kind(
    SEGMENT_LEFT, label=gettext_lazy("Left a segment"), describe=_left, on_timeline=False
)
