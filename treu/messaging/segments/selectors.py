"""Reads of segments: the list, the live count while editing, members and their export."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from treu.messaging.models import Segment, SegmentMembership
from treu.messaging.segments import rules

SAMPLE_SIZE = 10

# Every order, points change and customer edit asks whether any segment needs updating; with
# no segments (most installations until marketing starts) that must cost nothing. The answer
# is kept per process for ANY_SEGMENT_TTL seconds and forgotten in-process when a segment is
# saved or deleted, so only the step from none to the first segment can be seen up to that
# late in another process (and a new segment's first fill happens after it anyway).
ANY_SEGMENT_TTL = 5.0
_any_segment: tuple[float, bool] | None = None
_any_segment_lock = threading.Lock()


def any_active_segment() -> bool:
    global _any_segment
    current = _any_segment
    if current is not None and current[0] > time.monotonic():
        return current[1]
    found = Segment.objects.filter(active=True).exists()
    with _any_segment_lock:
        _any_segment = (time.monotonic() + ANY_SEGMENT_TTL, found)
    return found


def forget_active_segments() -> None:
    global _any_segment
    with _any_segment_lock:
        _any_segment = None


def segment_list() -> QuerySet[Segment]:
    return Segment.objects.order_by("name")


def segment_by_id(segment_id: int) -> Segment | None:
    return Segment.objects.filter(pk=segment_id).first()


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list  # a few matching customers, newest first


def preview(tree: dict, *, now: datetime | None = None, sample: int = SAMPLE_SIZE) -> Preview:
    """What a (normalised) rule tree holds right now: two queries, whatever the size."""
    matching = rules.members(tree, now=now)
    return Preview(
        count=matching.count(),
        sample=list(
            matching.order_by("-pk").only(
                "pk", "number", "first_name", "last_name", "email", "order_count",
                "total_spent_cents", "last_order_at",
            )[:sample]
        ),
    )  # fmt: skip


def members(segment: Segment) -> QuerySet[SegmentMembership]:
    """The stored members with their customer, newest first (the segment_member_newest index)."""
    return (
        SegmentMembership.objects.filter(segment=segment)
        .select_related("customer")
        .order_by("-since", "-customer_id")
    )


def segments_of(customer_id: int) -> QuerySet[Segment]:
    """The segments a customer is in now (for the customer page, campaigns)."""
    return Segment.objects.filter(memberships__customer_id=customer_id).order_by("name")


def is_member(segment: Segment, customer_id: int) -> bool:
    return SegmentMembership.objects.filter(segment=segment, customer_id=customer_id).exists()
