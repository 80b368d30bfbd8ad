"""The campaign pages: who may use them, the editor with its audience, sending, cancelling,
the results, and the sending rules."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from treu.messaging import services
from treu.messaging.models import (
    Campaign,
    CampaignStatus,
    EventKind,
    MessageEvent,
    MessageStatus,
    OutboundMessage,
    SendingRules,
)
from treu.messaging.tests.campaign_world import everyone
from treu.messaging.tests.sending_world import consenting_customer, newsletter

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    for _ in range(3):
        consenting_customer()
    return services.save_campaign(
        data=services.CampaignInput(
            name="Frühling", segment=everyone(), mail_template=newsletter(), control_percent=0
        )
    )


def _pages(c):
    return {
        "list": (reverse("messaging:campaign_list"), "get"),
        "new": (reverse("messaging:campaign_new"), "get"),
        "edit": (reverse("messaging:campaign_edit", args=[c.pk]), "get"),
        "detail": (reverse("messaging:campaign_detail", args=[c.pk]), "get"),
        "send": (reverse("messaging:campaign_send", args=[c.pk]), "post"),
        "cancel": (reverse("messaging:campaign_cancel", args=[c.pk]), "post"),
        "rules": (reverse("messaging:sending_rules"), "get"),
    }


PAGES = ["list", "new", "edit", "detail", "send", "cancel", "rules"]


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login(client, campaign, page):
    url, method = _pages(campaign)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["agent", "cashier", "outsider"])
def test_it_refuses_everyone_but_owner_and_marketing(client, campaign, page, who, request):
    client.force_login(request.getfixturevalue(who))
    url, method = _pages(campaign)[page]
    assert getattr(client, method)(url).status_code == 403
    assert OutboundMessage.objects.filter(key__startswith="campaign:").count() == 0


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["owner", "marketer"])
def test_owner_and_marketing_may_use_every_page(client, campaign, page, who, request):
    client.force_login(request.getfixturevalue(who))
    url, method = _pages(campaign)[page]
    assert getattr(client, method)(url).status_code in (200, 302)


def test_the_navigation_shows_campaigns_and_sending_rules(client, marketer):
    client.force_login(marketer)
    page = client.get(reverse("messaging:campaign_list")).content.decode()
    assert reverse("messaging:campaign_list") in page and "Kampagnen" in page
    assert reverse("messaging:sending_rules") in page


def _post(segment, template, **fields):
    return {
        "action": "save", "name": "Sommerkaffee", "segment": segment.pk if segment else "",
        "mail_template": template.pk, "topic": "", "when": "now", "send_date": "",
        "send_time": "", "control_percent": "10", "ab_variant": "", "subject_b": "",
        "template_b": "", "ab_sample_percent": "20", "ab_wait_hours": "4",
        "ab_metric": "clicks",
    } | fields  # fmt: skip


def test_the_editor_shows_the_audience_and_how_many_may_get_mail(client, marketer):
    for _ in range(4):
        consenting_customer()
    segment = everyone()
    from treu.customers.tests.factories import CustomerFactory

    CustomerFactory()  # no consent
    from treu.messaging.segments.services import refresh_segment

    refresh_segment(segment.pk)
    client.force_login(marketer)
    response = client.post(
        reverse("messaging:campaign_new"),
        _post(segment, newsletter(), action="count", control_percent="25"),
    )
    assert response.status_code == 200
    audience = response.context["audience"]
    assert (audience.members, audience.reachable, audience.control, audience.mailed) == (
        5, 4, 1, 3,
    )  # fmt: skip
    assert Campaign.objects.count() == 0


def test_a_bad_campaign_shows_german_errors_and_saves_nothing(client, marketer):
    client.force_login(marketer)
    now = timezone.localtime()
    response = client.post(
        reverse("messaging:campaign_new"),
        _post(
            None,
            newsletter(),
            when="later",
            send_date=(now - timedelta(days=1)).date().isoformat(),
            send_time="10:00",
            ab_variant="subject",
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Wählen Sie das Segment" in page
    assert "Dieser Zeitpunkt ist schon vorbei." in page
    assert "Betreff der Variante B" in page
    assert Campaign.objects.count() == 0


def test_marketing_creates_sends_and_sees_the_results(
    client, marketer, django_capture_on_commit_callbacks
):
    people = [consenting_customer() for _ in range(4)]
    client.force_login(marketer)
    response = client.post(
        reverse("messaging:campaign_new"), _post(everyone(), newsletter(), control_percent="0")
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and campaign.created_by == marketer
    assert campaign.status == CampaignStatus.DRAFT
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("messaging:campaign_send", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    rows = OutboundMessage.objects.filter(key__startswith=f"{campaign.prefix}:customer:")
    assert rows.count() == len(people)
    rows.update(status=MessageStatus.SENT, sent_at=timezone.now())
    MessageEvent.objects.create(message=rows.first(), kind=EventKind.CLICK, at=timezone.now())
    page = client.get(reverse("messaging:campaign_detail", args=[campaign.pk]))
    results = page.context["results"]
    assert (results.total.sent, results.total.clicked, results.held_out) == (4, 1, 0)
    assert "keine Kontrollgruppe" in page.content.decode()


def test_a_sent_campaign_cannot_be_cancelled_from_the_page(client, marketer, campaign):
    services.schedule_campaign(campaign)
    services.run_campaign(campaign.pk)
    client.force_login(marketer)
    response = client.post(reverse("messaging:campaign_cancel", args=[campaign.pk]), follow=True)
    assert "kann nicht mehr abgebrochen werden" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_a_draft_is_cancelled_from_the_page(client, marketer, campaign):
    client.force_login(marketer)
    client.post(reverse("messaging:campaign_cancel", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_marketing_changes_the_sending_rules_and_bad_input_changes_nothing(client, marketer):
    client.force_login(marketer)
    url = reverse("messaging:sending_rules")
    bad = client.post(url, {"weekly_cap": "99", "quiet_from": "20:00", "quiet_until": "08:00"})
    assert bad.status_code == 400
    assert SendingRules.current().weekly_cap == 3
    client.post(url, {"weekly_cap": "2", "quiet_from": "21:30", "quiet_until": "07:00"})
    rules = SendingRules.current()
    assert (rules.weekly_cap, rules.quiet_from, rules.quiet_until) == (2, time(21, 30), time(7))


def test_sending_later_without_a_date_is_refused_not_sent_at_once(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("messaging:campaign_new"), _post(everyone(), newsletter(), when="later")
    )
    assert response.status_code == 400
    assert "Geben Sie Datum und Uhrzeit an." in response.content.decode()
    assert Campaign.objects.count() == 0


def test_the_list_reads_a_fixed_number_of_queries(client, marketer, django_assert_num_queries):
    segment, template = everyone(), newsletter()
    data = services.CampaignInput(name="Eins", segment=segment, mail_template=template)
    services.save_campaign(data=data)
    client.force_login(marketer)
    client.get(reverse("messaging:campaign_list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("messaging:campaign_list"))
    for n in range(5):
        services.save_campaign(data=services.CampaignInput(
            name=f"Noch {n}", segment=segment, mail_template=template
        ))  # fmt: skip
    with django_assert_num_queries(len(one)):
        response = client.get(reverse("messaging:campaign_list"))
    assert response.content.decode().count("Noch ") == 5
