"""bench/bench_campaign.py at a small size: its data makes a real campaign of personalised
marketing mails (the benchmark times exactly this job)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from treu.messaging import services
from treu.messaging.models import OutboundMessage

BENCH = Path(django_settings.BASE_DIR) / "bench"
pytestmark = pytest.mark.django_db


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # it imports bench_outbox beside it
    spec = importlib.util.spec_from_file_location("bench_campaign", BENCH / "bench_campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_campaign_benchmark_sends_one_personalised_mail_per_customer(bench, settings):
    settings.TREU_SHOP_URL = "https://roesterei.example"  # what the benchmark sets
    campaign = bench.prepare(40, now=timezone.now())
    assert services.run_campaign(campaign.pk) == "sent"
    rows = OutboundMessage.objects.filter(key__startswith=f"{campaign.prefix}:customer:")
    assert rows.count() == 40
    named = rows.get(to_email="kunde1@example.de")  # number 1: "Ben"
    assert named.subject == "Ben, unser Kaffee des Monats ist da"
    nameless = rows.get(to_email="kunde5@example.de")  # number 5: no first name
    assert nameless.subject == "Hallo, unser Kaffee des Monats ist da"
    assert "List-Unsubscribe" in named.headers
    assert "/m/c/" in named.html_body and "/m/c/" in named.text_body  # the shop link, tracked
    assert "/m/o/" in named.html_body  # number 1 allowed measuring opens (every fourth)
