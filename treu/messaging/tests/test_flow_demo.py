"""The demo roaster's automations: four switched on, with weeks of history behind them."""

from __future__ import annotations

from datetime import date

import pytest

from treu.demo.generator import DemoOptions, build_demo, reset_demo
from treu.messaging.models import Enrollment, Flow, OutboundMessage, StepRun

pytestmark = pytest.mark.django_db


def test_the_demo_switches_flows_on_and_gives_them_history():
    build_demo(DemoOptions(customers=300, seed=7, years=2, until=date(2025, 6, 30)))
    on = set(Flow.objects.filter(active=True).values_list("default_key", flat=True))
    assert on == {"post_purchase", "birthday", "winback", "tier_reached"}
    assert Enrollment.objects.filter(flow__default_key="post_purchase").exists()
    assert StepRun.objects.filter(outcome="sent").exists()
    assert OutboundMessage.objects.filter(key__startswith="flow:").exists()
    # The history is in the past: each run happened when its enrollment was due.
    assert not Enrollment.objects.filter(enrolled_at__date__gt=date(2025, 7, 1)).exists()
    reset_demo()
    assert not Enrollment.objects.exists()
    assert not Flow.objects.filter(active=True).exists()
