"""What segments keep about customers (see treu.core.privacy): which segment they are in
since when. Derived from other data, so it goes on erasure (and erased customers never
belong again: the rules exclude them)."""

from __future__ import annotations

from treu.core import privacy
from treu.messaging.models import Segment, SegmentMembership

privacy.register(
    SegmentMembership,
    customer="customer",
    fields=["segment__name", "since"],
    erasure=privacy.Erasure.DELETE,
    retention="while the customer matches the segment's rules",
)
privacy.not_personal(Segment, reason="a named rule set over customers; no person's data")
