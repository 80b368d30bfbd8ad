"""The messaging models, one module per part; every model is re-exported here."""

from treu.messaging.models.segments import Segment, SegmentMembership

__all__ = ["Segment", "SegmentMembership"]
