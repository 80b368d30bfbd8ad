"""The segment pages: who may use them, the editor as a plain form, the live count, members
and their CSV, deleting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from treu.customers.tests.factories import CustomerFactory
from treu.messaging.models import Segment, SegmentMembership
from treu.messaging.segments import services

pytestmark = pytest.mark.django_db

REGULARS = {
    "version": 1,
    "match": "all",
    "groups": [{"match": "all", "conditions": [{"field": "order_count", "op": "gte", "value": 2}]}],
}


@pytest.fixture
def customers():
    now = timezone.now()
    return {
        "anna": CustomerFactory(first_name="Anna", order_count=3, total_spent_cents=9_000,
                                last_order_at=now - timedelta(days=3)),
        "ben": CustomerFactory(first_name="Ben", order_count=1, total_spent_cents=2_000),
        "cara": CustomerFactory(first_name="=Cara", order_count=5, total_spent_cents=30_000),
    }  # fmt: skip


@pytest.fixture
def segment(customers):
    segment = services.save_segment(name="Stammkunden", rules_tree=REGULARS)
    services.refresh_segment(segment.pk)
    segment.refresh_from_db()
    return segment


def _pages(segment):
    return {
        "list": (reverse("messaging:segment_list"), "get", "messaging.view_segment"),
        "new": (reverse("messaging:segment_new"), "get", "messaging.add_segment"),
        "edit": (reverse("messaging:segment_edit", args=[segment.pk]), "get", "change"),
        "detail": (reverse("messaging:segment_detail", args=[segment.pk]), "get", "view"),
        "export": (reverse("messaging:segment_export", args=[segment.pk]), "get", "view"),
        "delete": (reverse("messaging:segment_delete", args=[segment.pk]), "get", "delete"),
        "refresh": (reverse("messaging:segment_refresh", args=[segment.pk]), "post", "change"),
        "count": (reverse("messaging:segment_count"), "post", "view"),
    }


PAGES = ["list", "new", "edit", "detail", "export", "delete", "refresh", "count"]


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login(client, segment, page):
    url, method, _perm = _pages(segment)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["agent", "cashier", "outsider"])
def test_it_refuses_everyone_but_owner_and_marketing(client, segment, page, who, request):
    client.force_login(request.getfixturevalue(who))
    url, method, _perm = _pages(segment)[page]
    assert getattr(client, method)(url).status_code == 403


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["owner", "marketer"])
def test_owner_and_marketing_may_use_every_page(client, segment, page, who, request):
    client.force_login(request.getfixturevalue(who))
    url, method, _perm = _pages(segment)[page]
    response = getattr(client, method)(url, {"match": "all"} if page == "count" else None)
    assert response.status_code in (200, 302)


def test_the_navigation_shows_segments_to_marketing(client, marketer):
    client.force_login(marketer)
    page = client.get(reverse("messaging:segment_list")).content.decode()
    assert reverse("messaging:segment_list") in page
    assert "Segmente" in page


def _rows(**extra):
    data = {
        "name": "Treue Kundschaft",
        "description": "",
        "active": "on",
        "match": "all",
        "g-0-match": "all",
        "g-0-c-0-field": "order_count",
        "g-0-c-0-op": "gte",
        "g-0-c-0-value": "2",
    }
    data.update(extra)
    return data


def test_the_owner_creates_a_segment_and_it_is_filled(
    client, owner, customers, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("messaging:segment_new"), _rows(action="save"))
    segment = Segment.objects.get(name="Treue Kundschaft")
    assert response.status_code == 302
    assert response.url == reverse("messaging:segment_detail", args=[segment.pk])
    assert segment.rules == {**REGULARS}
    assert segment.created_by == owner
    # huey runs inline in tests: the refresh after the commit has filled it.
    members = set(
        SegmentMembership.objects.filter(segment=segment).values_list("customer_id", flat=True)
    )
    assert members == {customers["anna"].pk, customers["cara"].pk}
    detail = client.get(response.url).content.decode()
    assert reverse("customers:detail", args=[customers["anna"].pk]) in detail
    assert "Anzahl der Bestellungen mindestens 2" in detail


def test_the_add_condition_button_adds_a_row_without_saving(client, marketer, customers):
    client.force_login(marketer)
    response = client.post(reverse("messaging:segment_new"), _rows(action="add:0"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="g-0-c-1-field"' in page
    assert not Segment.objects.exists()
    assert "Dieses Feld ist zwingend erforderlich" not in page  # no errors for a half-typed form
    assert "Bitte einen Wert eingeben." not in page
    assert "Bedingungen vervollständigen, um die Anzahl zu sehen." in page


def test_a_group_can_be_added_and_a_condition_removed(client, marketer, customers):
    client.force_login(marketer)
    page = client.post(reverse("messaging:segment_new"), _rows(action="add_group")).content.decode()
    assert 'name="g-1-c-0-field"' in page
    second = {"g-1-match": "all", "g-1-c-0-field": "total_spent", "g-1-c-0-op": "gte"}
    data = _rows(action="remove:0:0", **second, **{"g-1-c-0-value": "100,00"})
    page = client.post(reverse("messaging:segment_new"), data).content.decode()
    assert 'name="g-0-c-0-field"' in page
    assert 'name="g-1-c-0-field"' not in page  # the emptied first group went, the second moved up
    assert 'value="100,00"' in page
    assert "1 Kundin oder Kunde" in page  # Cara: 300 €


def test_changing_a_field_offers_its_own_comparisons(client, marketer, customers):
    client.force_login(marketer)
    data = _rows(action="preview", **{"g-0-c-0-field": "last_order", "g-0-c-0-value": "30"})
    page = client.post(reverse("messaging:segment_new"), data).content.decode()
    assert "in den letzten … Tagen" in page
    assert "1 Kundin oder Kunde" in page  # Anna ordered 3 days ago


def test_a_field_chosen_by_the_script_rerenders_without_errors(client, marketer, customers):
    client.force_login(marketer)
    data = _rows(action="change_field", **{"g-0-c-0-field": "total_spent", "g-0-c-0-value": ""})
    page = client.post(reverse("messaging:segment_new"), data).content.decode()
    assert 'placeholder="25,00"' in page  # the money input of the new field
    assert "Betrag wie 25,00 eingeben." not in page
    assert not Segment.objects.exists()


def test_bad_rules_are_shown_in_german_next_to_the_row_and_nothing_is_saved(
    client, owner, customers
):
    client.force_login(owner)
    data = _rows(action="save", **{"g-0-c-0-value": "viele"})
    response = client.post(reverse("messaging:segment_new"), data)
    assert response.status_code == 400
    assert "Die Zahl muss eine ganze Zahl sein." in response.content.decode()
    assert not Segment.objects.exists()


def test_a_duplicate_name_is_refused(client, owner, segment):
    client.force_login(owner)
    response = client.post(
        reverse("messaging:segment_new"), _rows(action="save", name="stammkunden")
    )
    assert response.status_code == 400
    assert "Ein Segment mit diesem Namen gibt es schon." in response.content.decode()
    assert Segment.objects.count() == 1


def test_editing_keeps_the_rules_and_changes_them(
    client, owner, segment, customers, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    page = client.get(reverse("messaging:segment_edit", args=[segment.pk])).content.decode()
    assert 'value="Stammkunden"' in page
    assert 'name="g-0-c-0-value" value="2"' in page
    data = _rows(action="save", name="Stammkunden", **{"g-0-c-0-value": "4"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("messaging:segment_edit", args=[segment.pk]), data)
    segment.refresh_from_db()
    assert segment.rules["groups"][0]["conditions"][0]["value"] == 4
    assert segment.member_count == 1


def test_the_live_count_endpoint_answers_with_count_and_sample(client, marketer, customers):
    client.force_login(marketer)
    response = client.post(reverse("messaging:segment_count"), _rows())
    body = response.json()
    assert body["count"] == 2
    assert body["count_text"] == "2 Kundinnen und Kunden"
    assert {s["url"] for s in body["sample"]} == {
        reverse("customers:detail", args=[customers[n].pk]) for n in ("anna", "cara")
    }


def test_the_live_count_endpoint_explains_bad_rules(client, marketer, customers):
    client.force_login(marketer)
    data = _rows(**{"g-0-c-0-field": "total_spent", "g-0-c-0-op": "gte", "g-0-c-0-value": "x"})
    response = client.post(reverse("messaging:segment_count"), data)
    assert response.status_code == 422
    assert response.json() == {
        "count": None,
        "errors": ["Gruppe 1, Bedingung 1: Betrag wie 25,00 eingeben."],
    }


def test_the_csv_lists_the_members_for_german_excel(client, marketer, segment, customers):
    client.force_login(marketer)
    response = client.get(reverse("messaging:segment_export", args=[segment.pk]))
    text = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/csv"
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Kundennummer;Vorname;Nachname;E-Mail;Bestellungen")
    assert len(lines) == 3
    assert any(";'=Cara;" in line for line in lines)  # no formula for spreadsheets
    assert any(";300,00;" in line for line in lines)


def test_the_member_list_is_paginated(client, marketer, segment, customers, settings):
    from treu.messaging import segment_views

    client.force_login(marketer)
    segment_views.PAGE_SIZE, before = 1, segment_views.PAGE_SIZE
    try:
        page = client.get(reverse("messaging:segment_detail", args=[segment.pk])).content.decode()
    finally:
        segment_views.PAGE_SIZE = before
    assert "Seite 1 von 2" in page


def test_deleting_asks_first_then_removes_segment_and_members(client, owner, segment):
    client.force_login(owner)
    url = reverse("messaging:segment_delete", args=[segment.pk])
    assert "Löschen" in client.get(url).content.decode()
    assert Segment.objects.exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not Segment.objects.exists()
    assert not SegmentMembership.objects.exists()


def test_refresh_now_brings_the_members_up_to_date(client, owner, segment, customers):
    client.force_login(owner)
    customers["ben"].order_count = 2
    customers["ben"].save(update_fields=["order_count"])
    client.post(reverse("messaging:segment_refresh", args=[segment.pk]))
    segment.refresh_from_db()
    assert segment.member_count == 3


def test_the_member_list_reads_a_fixed_number_of_queries(
    client, marketer, segment, django_assert_max_num_queries
):
    client.force_login(marketer)
    with django_assert_max_num_queries(8):
        client.get(reverse("messaging:segment_detail", args=[segment.pk]))
