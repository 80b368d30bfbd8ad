"""Segments of the demo roaster: ready examples a shop owner recognises, filled at once."""

from __future__ import annotations

from treu.messaging.models import Segment
from treu.messaging.segments import services

# (name, description, rules); tier rules are added when the demo has such a tier.
EXAMPLES = [
    (
        "Stammkunden",
        "Mindestens drei Bestellungen und zuletzt vor höchstens 180 Tagen bestellt.",
        {"match": "all", "groups": [{"match": "all", "conditions": [
            {"field": "order_count", "op": "gte", "value": 3},
            {"field": "last_order", "op": "within", "value": 180},
        ]}]},
    ),
    (
        "Gefährdete Kundinnen und Kunden",
        "RFM-Segment „Gefährdet“ oder „Nicht verlieren“, oder treue Käufer seit 120 Tagen "
        "ohne Bestellung.",
        {"match": "any", "groups": [
            {"match": "all", "conditions": [
                {"field": "rfm_segment", "op": "in", "value": ["at_risk", "cant_lose"]},
            ]},
            {"match": "all", "conditions": [
                {"field": "order_count", "op": "gte", "value": 2},
                {"field": "last_order", "op": "not_within", "value": 120},
            ]},
        ]},
    ),
    (
        "Neukunden der letzten 30 Tage",
        "Erste Bestellung in den letzten 30 Tagen.",
        {"match": "all", "groups": [{"match": "all", "conditions": [
            {"field": "first_order", "op": "within", "value": 30},
        ]}]},
    ),
]  # fmt: skip


def finish() -> None:
    """Create the example segments that do not exist yet and fill them (the demo's data is
    written by then, the analytics recompute included: the RFM rule sees its segments)."""
    from treu.loyalty import tier_selectors

    examples = list(EXAMPLES)
    gold = next((t for t in tier_selectors.tier_list() if t.name == "Gold"), None)
    if gold is not None:
        examples.append(
            (
                "Gold-Mitglieder",
                "Mitglieder der Treuestufe Gold.",
                {"match": "all", "groups": [{"match": "all", "conditions": [
                    {"field": "loyalty_tier", "op": "in", "value": [str(gold.pk)]},
                ]}]},
            )
        )  # fmt: skip
    for name, description, tree in examples:
        segment = Segment.objects.filter(name=name).first()
        if segment is None:
            segment = services.save_segment(name=name, description=description, rules_tree=tree)
        services.refresh_segment(segment.pk)


def reset() -> None:
    """The example segments' members go with the customers; the segments themselves stay
    (and are refilled by `finish`)."""
    from treu.messaging.models import SegmentMembership

    memberships = SegmentMembership.objects.all()
    memberships._raw_delete(memberships.db)
    Segment.objects.update(member_count=0, refreshed_at=None)
