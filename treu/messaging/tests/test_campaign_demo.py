"""The demo's sent campaigns: through the real job, with results, the same on every build."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.messaging import campaign_demo, selectors
from treu.messaging.models import Campaign, Holdout, MessageEvent, OutboundMessage
from treu.messaging.segments import demo as segment_demo
from treu.messaging.tests.sending_world import consenting_customer

pytestmark = pytest.mark.django_db


def _world():
    now = timezone.now()
    for n in range(60):
        consenting_customer(
            order_count=4 if n % 2 else 0,
            last_order_at=now - timedelta(days=10) if n % 2 else None,
            first_order_at=now - timedelta(days=400) if n % 2 else None,
        )
    segment_demo.finish()


def _snapshot():
    return (
        sorted(OutboundMessage.objects.filter(key__startswith="campaign:").values_list(
            "key", "status", "delivery_status"
        )),
        sorted(MessageEvent.objects.values_list("message__key", "kind")),
        sorted(Holdout.objects.values_list("prefix", "customer_id")),
    )  # fmt: skip


def test_the_demo_has_a_sent_campaign_and_a_decided_ab_test_with_results():
    _world()
    campaign_demo.finish()
    monthly = Campaign.objects.get(name=campaign_demo.MONTHLY)
    autumn = Campaign.objects.get(name=campaign_demo.AUTUMN)
    assert monthly.status == autumn.status == "sent"
    assert autumn.ab_winner in ("a", "b") and autumn.decided_at is not None
    now = timezone.now()
    results = selectors.campaign_results(autumn, now=now)
    assert results.audience == 60 and results.held_out > 0
    assert results.total.sent == results.total.queued > 0
    assert results.total.delivered + results.total.bounced == results.total.sent
    assert [v.key for v in results.variants] == ["a", "b"]
    assert results.variants[0].figures.sent > 0 and results.variants[1].figures.sent > 0
    # No one is both held back and mailed.
    held = set(Holdout.objects.filter(prefix=autumn.prefix).values_list("customer_id", flat=True))
    mailed = set(
        OutboundMessage.objects.filter(key__startswith=f"{autumn.prefix}:").values_list(
            "customer_id", flat=True
        )
    )
    assert not held & mailed
    monthly_results = selectors.campaign_results(monthly, now=now)
    assert monthly_results.audience == 30  # the regular customers
    # Built again after a reset: the same mails, events and control groups.
    first = _snapshot()
    campaign_demo.finish()  # a second run keeps what is there
    assert _snapshot() == first
    campaign_demo.reset()
    assert not Campaign.objects.exists() and not Holdout.objects.exists()
    assert not OutboundMessage.objects.filter(key__startswith="campaign:").exists()
