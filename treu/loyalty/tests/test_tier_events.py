"""How the tier and expiry events read on the customer timeline (German)."""

from __future__ import annotations

from django.utils import translation

from treu.core import events
from treu.core.models import DomainEvent
from treu.loyalty.events import POINTS_CHANGED, POINTS_EXPIRING, TIER_CHANGED, TIER_DOWNGRADE_NOTICE


def read(event_kind: str, **payload) -> events.TimelineEntry:
    with translation.override("de"):
        return events.describe(DomainEvent(kind=event_kind, payload={"member_id": 3, **payload}))


def test_tier_changes_read_as_moving_up_or_down():
    up = read(TIER_CHANGED, from_tier="Silber", to_tier="Gold", direction="up", cause="staff")
    assert (up.title, up.detail) == ("Aufgestiegen in die Stufe Gold", "Vom Team vergeben")
    assert up.url.endswith("/members/3/")
    down = read(TIER_CHANGED, from_tier="Gold", to_tier="Silber", direction="down")
    assert down.title == "Abgestiegen in die Stufe Silber"
    assert read(TIER_CHANGED, from_tier="Gold", to_tier=None).title == "Stufe Gold verlassen"


def test_notices_and_warnings_name_their_date():
    notice = read(TIER_DOWNGRADE_NOTICE, from_tier="Gold", on="2027-11-27")
    assert notice.title == "Stufe Gold endet am 27.11.2027"
    warning = read(POINTS_EXPIRING, points=60, expires_on="2026-03-31", point_name="Bohnen")
    assert warning.title == "60 Bohnen verfallen am 31.03.2026"


def test_expired_points_read_as_expired():
    entry = read(POINTS_CHANGED, kind="expire", available_change=-70, point_name="Bohnen")
    assert entry.title == "70 Bohnen verfallen"
