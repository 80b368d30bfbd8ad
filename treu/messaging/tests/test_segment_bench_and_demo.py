"""bench/bench_segments.py at a small size (its data and its check hold), and the demo's
example segments."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from treu.customers.tests.factories import CustomerFactory
from treu.loyalty.models import Tier
from treu.messaging.models import Segment, SegmentMembership
from treu.messaging.segments import demo, rules, services

BENCH = Path(django_settings.BASE_DIR) / "bench" / "bench_segments.py"
pytestmark = pytest.mark.django_db


@pytest.fixture
def bench():
    spec = importlib.util.spec_from_file_location("bench_segments", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_segment_benchmark_fills_exactly_the_five_rule_segment(bench):
    now = timezone.now()
    ids = bench.populate(600, seed=3, now=now)
    tree = rules.normalise(bench.five_rules(ids))
    matching = rules.members(tree, now=now).count()
    segment = Segment.objects.create(name="Fünf", rules=tree)
    assert services.refresh_segment(segment.pk, now=now).entered == matching > 0
    assert bench.check(segment, ids, now=now, sample=600) == 0
    later = now + timedelta(days=45)
    services.refresh_segment(segment.pk, now=later)
    assert bench.check(segment, ids, now=later, sample=600) == 0


def test_the_demo_creates_the_example_segments_and_fills_them():
    now = timezone.now()
    regular = CustomerFactory(order_count=4, last_order_at=now - timedelta(days=10),
                              first_order_at=now - timedelta(days=400))  # fmt: skip
    new = CustomerFactory(order_count=1, last_order_at=now - timedelta(days=5),
                          first_order_at=now - timedelta(days=5))  # fmt: skip
    Tier.objects.create(name="Gold", rank=3)
    demo.finish()
    by_name = {s.name: s for s in Segment.objects.all()}
    assert set(by_name) == {
        "Stammkunden", "Gefährdete Kundinnen und Kunden", "Neukunden der letzten 30 Tage",
        "Gold-Mitglieder",
    }  # fmt: skip
    assert by_name["Stammkunden"].member_count == 1
    assert SegmentMembership.objects.get(segment=by_name["Stammkunden"]).customer == regular
    assert (
        SegmentMembership.objects.get(segment=by_name["Neukunden der letzten 30 Tage"]).customer
        == new
    )
    demo.finish()  # a second build reuses them
    assert Segment.objects.count() == 4
    demo.reset()
    assert not SegmentMembership.objects.exists()
