"""The back-office pages: who may see and change what, and that they show it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from treu.messaging import services
from treu.messaging.models import ConsentRecord, ConsentState, ConsentText, Topic
from treu.messaging.tests.consent.conftest import sign_up

pytestmark = pytest.mark.django_db


def test_marketing_sees_the_overview_with_counts_and_reasons(
    client_of, marketer, anna, ben, mailoutbox
):
    services.confirm_consent(token=sign_up(anna).token)
    services.withdraw_consent(customer=anna, method="link", reason="Zu viele E-Mails")
    sign_up(ben, source="embed")
    page = client_of(marketer).get("/messaging/consent/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Zu viele E-Mails" in html
    assert "ben.schaefer@example.de" in html
    assert "Eingebettetes Formular" in html


def test_support_and_the_cashier_do_not_see_the_overview(client_of, agent, cashier):
    assert client_of(agent).get("/messaging/consent/").status_code == 403
    assert client_of(cashier).get("/messaging/consent/").status_code == 403


def test_support_prints_the_proof_with_texts_ips_and_times(client_of, agent, anna, mailoutbox):
    services.confirm_consent(token=sign_up(anna).token, ip="203.0.113.77")
    page = client_of(agent).get(f"/messaging/consent/customers/{anna.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "203.0.113.77" in html and "198.51.100.7" in html
    assert ConsentText.objects.get(basis="consent", version=1).wording in html
    assert "Bestätigungs-Mail gesendet" in html
    assert (
        "@media print"
        in open(  # noqa: SIM115, PTH123
            "treu/messaging/static/messaging/consent.css"
        ).read()
    )


def test_the_cashier_may_not_see_a_proof(client_of, cashier, anna):
    assert client_of(cashier).get(f"/messaging/consent/customers/{anna.pk}/").status_code == 403


def test_support_records_an_unsubscribe_asked_for_on_the_phone(client_of, agent, anna, mailoutbox):
    services.confirm_consent(token=sign_up(anna).token)
    client = client_of(agent)
    url = f"/messaging/consent/customers/{anna.pk}/unsubscribe/"
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "Am Telefon gebeten"})
    assert response.status_code == 302
    record = ConsentRecord.objects.order_by("-id")[0]
    assert (record.state, record.method, record.reason) == (
        ConsentState.WITHDRAWN,
        "backoffice",
        "Am Telefon gebeten",
    )
    assert record.detail == {"staff": "support"}


def test_marketing_publishes_a_new_text_version(client_of, marketer):
    client = client_of(marketer)
    wording = "Ja, ich möchte den Kaffee-Newsletter mit Angeboten per E-Mail erhalten."
    response = client.post(
        "/messaging/consent/texts/publish/", {"basis": "consent", "wording": wording}
    )
    assert response.status_code == 302
    text = ConsentText.objects.get(basis="consent", version=2)
    assert text.created_by == marketer
    assert wording in client.get("/messaging/consent/texts/").content.decode()
    bad = client.post("/messaging/consent/texts/publish/", {"basis": "consent", "wording": ""})
    assert bad.status_code == 400
    assert "vollständigen Text" in bad.content.decode()


def test_support_may_not_publish_texts_or_edit_topics(client_of, agent):
    client = client_of(agent)
    assert client.post("/messaging/consent/texts/publish/", {"basis": "consent"}).status_code == 403
    assert client.get("/messaging/consent/topics/new/").status_code == 403


def test_marketing_adds_and_edits_a_topic(client_of, marketer):
    client = client_of(marketer)
    response = client.post(
        "/messaging/consent/topics/new/",
        {"name": "Kaffeewissen", "description": "Zubereitung", "position": 2, "active": "on"},
    )
    assert response.status_code == 302
    topic = Topic.objects.get()
    assert (
        client.post(
            f"/messaging/consent/topics/{topic.pk}/", {"name": "", "position": 1}
        ).status_code
        == 400
    )
    client.post(f"/messaging/consent/topics/{topic.pk}/", {"name": "Wissen", "position": 1})
    topic.refresh_from_db()
    assert (topic.name, topic.active) == ("Wissen", False)


def test_the_embed_page_gives_a_snippet_with_unchecked_boxes_and_the_version(
    client_of, marketer, topics
):
    html = client_of(marketer).get("/messaging/consent/form/").content.decode()
    assert "/messaging/newsletter/extern/" in html
    assert "name=&quot;text_version&quot; value=&quot;1&quot;" in html
    assert "checked" not in html
    assert "&lt;script" not in html


def test_consent_events_read_well_on_the_timeline(anna, mailoutbox, after_commit):
    from treu.customers.selectors import customer_timeline

    services.confirm_consent(token=sign_up(anna).token)
    titles = [item.entry.title for item in customer_timeline(anna, limit=10)]
    assert "Newsletter bestätigt (Double-Opt-In)" in titles
    assert "Zum Newsletter angemeldet, Bestätigung ausstehend" in titles


def _signed_up(count: int, start: int = 0) -> None:
    from treu.customers.tests.factories import CustomerFactory

    for n in range(start, start + count):
        customer = CustomerFactory(email=f"leserin{n}@example.de")
        services.confirm_consent(token=sign_up(customer, ip=f"198.51.100.{n + 1}").token)
        if n % 2:
            services.withdraw_consent(customer=customer, method="link", reason="Zu viele")


def test_the_overview_costs_the_same_queries_for_few_and_many(
    client_of, marketer, mailoutbox, django_assert_num_queries
):
    client = client_of(marketer)
    _signed_up(2)
    client.get("/messaging/consent/")  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        client.get("/messaging/consent/")
    _signed_up(8, start=2)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get("/messaging/consent/")


def test_the_proof_costs_the_same_queries_for_a_short_and_a_long_history(
    client_of, agent, anna, mailoutbox, django_assert_num_queries
):
    client = client_of(agent)
    services.confirm_consent(token=sign_up(anna).token)
    url = f"/messaging/consent/customers/{anna.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as short:
        client.get(url)
    for _ in range(3):
        services.withdraw_consent(customer=anna, method="link")
        sign_up(anna, now=None)
    with django_assert_num_queries(len(short.captured_queries)):
        client.get(url)
