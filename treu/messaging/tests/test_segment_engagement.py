"""The engagement rule of segments: opened, clicked, neither, or received a marketing mail in
the last N days; a click or an open moves its customer at once, the clock nightly."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from treu.core.models import DomainEvent
from treu.customers.tests.factories import CustomerFactory
from treu.messaging import services as messaging_services
from treu.messaging.models import OutboundMessage, Segment, SegmentMembership
from treu.messaging.segments import rules, services
from treu.messaging.services import engagement
from treu.messaging.tests.consent.conftest import anna_active  # noqa: F401
from treu.messaging.tests.segment_world import add_mail

pytestmark = pytest.mark.django_db

CLICK = re.compile(r"http://localhost:8000(/m/c/[^/\s\"']+/)")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://localhost:8000"


def _rules(op: str, days: int) -> dict:
    condition = {"field": "engagement", "op": op, "value": days}
    return {"groups": [{"conditions": [condition]}]}


def _members(segment) -> set[str]:
    return set(
        SegmentMembership.objects.filter(segment=segment).values_list("customer__email", flat=True)
    )


def _matching(op: str, days: int) -> set[str]:
    tree = rules.normalise(_rules(op, days))
    return set(rules.members(tree).values_list("email", flat=True))


@pytest.fixture
def people():
    now = timezone.now()
    anna = CustomerFactory(email="anna@example.de")  # clicked 3 days ago
    ben = CustomerFactory(email="ben@example.de")  # opened 40 days ago, got a mail yesterday
    CustomerFactory(email="cara@example.de")  # never got a mail
    add_mail(anna, now - timedelta(days=5), "sent", True, [])
    mail = OutboundMessage.objects.get(customer=anna)
    mail.events.create(kind="click", at=now - timedelta(days=3), url="https://x.example")
    add_mail(ben, now - timedelta(days=45), "sent", True, [])
    OutboundMessage.objects.get(customer=ben).events.create(
        kind="open", at=now - timedelta(days=40)
    )
    add_mail(ben, now - timedelta(days=1), "sent", True, [])
    return {"anna": anna, "ben": ben}


def test_each_comparison_names_whom_it_should(people):
    assert _matching("clicked", 7) == {"anna@example.de"}
    assert _matching("opened", 7) == set()
    assert _matching("opened", 60) == {"ben@example.de"}
    assert _matching("engaged", 60) == {"anna@example.de", "ben@example.de"}
    assert _matching("unengaged", 30) == {"ben@example.de", "cara@example.de"}
    assert _matching("received", 2) == {"ben@example.de"}
    assert _matching("received", 30) == {"anna@example.de", "ben@example.de"}


def test_received_counts_only_marketing_mails_that_went_out(people):
    cara = CustomerFactory(email="dora@example.de")
    now = timezone.now()
    add_mail(cara, now, "queued", True, [])
    add_mail(cara, now, "failed", True, [])
    add_mail(cara, now, "sent", False, [])  # an order confirmation
    assert "dora@example.de" not in _matching("received", 30)


def test_the_rule_is_refused_with_a_german_reason():
    with pytest.raises(rules.RuleError) as error:
        rules.normalise(_rules("clicked", 0))
    assert error.value.messages == [
        "Gruppe 1, Bedingung 1: Die Zahl der Tage muss zwischen 1 und 36500 liegen."
    ]
    with pytest.raises(rules.RuleError):
        rules.normalise(_rules("within", 30))  # an operator of another kind


def test_the_rule_reads_in_german():
    tree = rules.normalise(_rules("unengaged", 90))
    assert rules.describe(tree)[0][1] == [
        "E-Mail-Engagement: hat in den letzten 90 Tagen weder geöffnet noch geklickt"
    ]


def test_a_click_moves_its_customer_into_the_segment_at_once(
    people, django_capture_on_commit_callbacks
):
    cara = CustomerFactory(email="clara@example.de")
    clicked = services.save_segment(name="Klickt", rules_tree=_rules("clicked", 30))
    silent = services.save_segment(name="Still", rules_tree=_rules("unengaged", 30))
    for segment in (clicked, silent):
        services.refresh_segment(segment.pk)
    assert "clara@example.de" in _members(silent)
    messaging_services.enqueue_messages(
        [
            messaging_services.NewMessage(
                key="campaign:1:customer:clara", to_email=cara.email, customer_id=cara.pk,
                subject="Neue Bohnen", text_body="Hier: https://roesterei.example.de/bohnen",
            )
        ]
    )  # fmt: skip
    body = OutboundMessage.objects.get(customer=cara).text_body

    with django_capture_on_commit_callbacks(execute=True):
        response = Client().get(CLICK.search(body).group(1))

    assert response.status_code == 302
    assert "clara@example.de" in _members(clicked)
    assert "clara@example.de" not in _members(silent)
    event = DomainEvent.objects.get(kind="message.clicked")
    assert event.customer_id == cara.pk
    assert event.payload["key"] == "campaign:1:customer:clara"
    assert event.payload["url"] == "https://roesterei.example.de/bohnen"


def test_an_open_moves_its_customer_too(
    people,
    anna,
    anna_active,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    messaging_services.update_preferences(customer=anna, topics=[], frequency="all", tracking=True)
    opened = services.save_segment(name="Öffnet", rules_tree=_rules("opened", 7))
    services.refresh_segment(opened.pk)
    assert _members(opened) == set()
    messaging_services.enqueue_messages(
        [
            messaging_services.NewMessage(
                key="campaign:2:customer:anna", to_email=anna.email, customer_id=anna.pk,
                subject="Hallo", text_body="Hallo", html_body="<html><body>Hallo</body></html>",
            )
        ]
    )  # fmt: skip
    html = OutboundMessage.objects.get(key="campaign:2:customer:anna").html_body
    pixel = re.search(r"http://localhost:8000(/m/o/[^/\s\"']+/)", html).group(1)

    with django_capture_on_commit_callbacks(execute=True):
        Client().get(pixel)

    assert _members(opened) == {"anna.mueller@example.de"}
    assert DomainEvent.objects.filter(kind="message.opened", customer=anna).count() == 1


def test_a_click_in_a_mail_without_a_customer_publishes_nothing(people):
    mail = add_mail(None, timezone.now(), "sent", True, [])
    token = engagement.click_url(mail.key, "https://x.example/").split("/m/c/")[1].rstrip("/")
    assert engagement.record_click(token) == "https://x.example/"
    assert mail.events.count() == 1
    assert not DomainEvent.objects.filter(kind="message.clicked").exists()


def test_the_nightly_refresh_lets_an_old_click_fall_out(people):
    segment = services.save_segment(name="Klickt", rules_tree=_rules("clicked", 7))
    services.refresh_segment(segment.pk)
    assert _members(segment) == {"anna@example.de"}
    services.refresh_all_segments(now=timezone.now() + timedelta(days=8))
    assert _members(segment) == set()


# -- The editor ---------------------------------------------------------------------------------


def _rows(**extra):
    data = {
        "name": "Aktive Leser",
        "match": "all",
        "active": "on",
        "g-0-match": "all",
        "g-0-c-0-field": "engagement",
        "g-0-c-0-op": "clicked",
        "g-0-c-0-value": "30",
    }
    return {**data, **extra}


def test_the_editor_offers_the_engagement_comparisons(client, marketer, people):
    client.force_login(marketer)
    data = _rows(action="change_field", **{"g-0-c-0-op": "gte", "g-0-c-0-value": ""})
    page = client.post(reverse("messaging:segment_new"), data).content.decode()
    assert "E-Mail-Engagement" in page
    assert "hat in den letzten … Tagen weder geöffnet noch geklickt" in page
    assert 'aria-label="Tage"' in page


def test_the_live_count_follows_the_engagement_rule(client, marketer, people):
    client.force_login(marketer)
    body = client.post(reverse("messaging:segment_count"), _rows()).json()
    assert body["count"] == 1
    data = _rows(**{"g-0-c-0-op": "unengaged"})
    assert client.post(reverse("messaging:segment_count"), data).json()["count"] == 2


def test_a_bad_number_of_days_is_shown_in_german_and_nothing_is_saved(client, owner, people):
    client.force_login(owner)
    response = client.post(
        reverse("messaging:segment_new"), _rows(action="save", **{"g-0-c-0-value": "0"})
    )
    assert response.status_code == 400
    assert "Die Zahl der Tage muss zwischen 1 und 36500 liegen." in response.content.decode()
    assert not Segment.objects.exists()


def test_an_engagement_segment_is_saved_filled_and_edited(
    client, owner, people, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("messaging:segment_new"), _rows(action="save"))
    segment = Segment.objects.get(name="Aktive Leser")
    assert segment.rules["groups"][0]["conditions"] == [
        {"field": "engagement", "op": "clicked", "value": 30}
    ]
    assert _members(segment) == {"anna@example.de"}
    detail = client.get(response.url).content.decode()
    assert "E-Mail-Engagement: hat in den letzten 30 Tagen einen Link in einer E-Mail geklickt" in (
        detail
    )
    page = client.get(reverse("messaging:segment_edit", args=[segment.pk])).content.decode()
    assert 'name="g-0-c-0-value" value="30"' in page
    assert '<option value="clicked" selected' in page
