"""bench/bench_tiers.py at a small size: its data builder and check work, its figures hold."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from treu.loyalty import services
from treu.loyalty.models import MemberTier

BENCH = Path(django_settings.BASE_DIR) / "bench" / "bench_tiers.py"


@pytest.fixture
def bench():
    spec = importlib.util.spec_from_file_location("bench_tiers", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tier_benchmark_recomputes_its_members_correctly(db, bench):
    bench.populate(300, seed=1)
    result = services.recompute_tiers()
    assert result.members == 300 and result.upgraded == MemberTier.objects.count() > 0
    assert bench.verify(sample=300) == 0
    assert MemberTier.objects.filter(tier__name="VIP").count() == 3  # top 1 %
    assert services.recompute_tiers().upgraded == 0  # the same day: nothing changes


def test_the_calendar_nights_notify_every_lower_member_and_downgrade_them_on_1_january(db, bench):
    from django.utils import timezone

    now = timezone.now()
    bench.populate(300, seed=1, now=now, period="calendar")
    services.recompute_tiers(now=now)
    open_tiers = MemberTier.objects.exclude(tier=None).exclude(tier__name="VIP").count()
    nights = dict(bench.nights(now, "calendar"))

    notices = services.recompute_tiers(now=nights["notice night"])
    downgrades = services.recompute_tiers(now=nights["1 January"])

    # Nobody in the data buys in the following year: all lose their tier that night.
    assert notices.notices == open_tiers > 0
    assert downgrades.downgraded == open_tiers
