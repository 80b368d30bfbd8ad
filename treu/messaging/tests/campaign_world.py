"""Helpers for campaign tests: a segment of everyone, a campaign ready to send."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from treu.messaging import services
from treu.messaging.models import Segment
from treu.messaging.segments import services as segment_services
from treu.messaging.tests.sending_world import newsletter

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=BERLIN)
EVERYONE = {"version": 1, "match": "all", "groups": []}


def everyone(name: str = "Alle") -> Segment:
    found = Segment.objects.filter(name=name).first()
    return found or segment_services.save_segment(name=name, rules_tree=EVERYONE)


def campaign_input(**fields) -> services.CampaignInput:
    values = {
        "name": "Kaffee des Monats März",
        "segment": fields.pop("segment", None) or everyone(),
        "mail_template": fields.pop("mail_template", None) or newsletter(),
    }
    return services.CampaignInput(**(values | fields))


def campaign(*, now: datetime = MONDAY_NOON, **fields):
    return services.save_campaign(data=campaign_input(**fields), now=now)
