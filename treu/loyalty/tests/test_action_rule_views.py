"""The pages of the earning rules for actions, recording an action on the member page, and
who may use them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.loyalty import services
from treu.loyalty.models import ActionRule, PointsEntry

pytestmark = pytest.mark.django_db

ROLES = ["owner", "marketer", "agent", "cashier", "outsider"]
EDITORS = {"owner", "marketer"}
RECORDERS = {"owner", "marketer", "agent"}


@pytest.fixture
def rule(program):
    return services.save_action_rule(
        name="Bewertung", trigger="review", points=20, limit="unlimited"
    )


def _rule_pages(rule):
    return {
        "action_rules": reverse("loyalty:action_rules"),
        "action_rule_new": reverse("loyalty:action_rule_new"),
        "action_rule_edit": reverse("loyalty:action_rule_edit", args=[rule.pk]),
    }


@pytest.mark.parametrize("page", ["action_rules", "action_rule_new", "action_rule_edit"])
def test_anonymous_visitors_are_sent_to_the_login(client, rule, page):
    response = client.get(_rule_pages(rule)[page])
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["action_rules", "action_rule_new", "action_rule_edit"])
def test_only_owner_and_marketing_see_and_change_the_rules(client_of, request, rule, page, role):
    response = client_of(request.getfixturevalue(role)).get(_rule_pages(rule)[page])
    assert response.status_code == (200 if role in EDITORS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_owner_marketing_and_support_record_actions(client_of, request, rule, anna_member, role):
    url = reverse("loyalty:member_action", args=[anna_member.pk])
    response = client_of(request.getfixturevalue(role)).post(
        url, {"action": "review", "reference": "R-1"}
    )
    if role in RECORDERS:
        assert response.status_code == 302
        assert PointsEntry.objects.filter(source_rule="review").count() == 1
    else:
        assert response.status_code == 403
        assert not PointsEntry.objects.filter(source_rule="review").exists()


def test_recording_needs_a_post(client_of, marketer, anna_member):
    response = client_of(marketer).get(reverse("loyalty:member_action", args=[anna_member.pk]))
    assert response.status_code == 405


def test_the_navigation_shows_the_rules_to_marketing_only(client_of, marketer, agent, program):
    url = reverse("loyalty:action_rules")
    assert url in client_of(marketer).get(reverse("backoffice:overview")).content.decode()
    assert url not in client_of(agent).get(reverse("backoffice:overview")).content.decode()


def test_marketing_creates_a_rule_with_window_and_tiers(client_of, marketer, program):
    gold = services.save_tier(name="Gold", rank=2, threshold=50_000)
    response = client_of(marketer).post(
        reverse("loyalty:action_rule_new"),
        {"name": "Workshop", "trigger": "custom", "points": "40", "event": "workshop_besucht",
         "limit": "per_year", "starts_on": "2026-05-01", "ends_on": "2026-05-31",
         "eligible_tiers": [gold.pk], "active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    rule = ActionRule.objects.get(name="Workshop")
    assert (rule.event, rule.limit, str(rule.ends_on)) == (
        "workshop_besucht",
        "per_year",
        "2026-05-31",
    )
    assert list(rule.eligible_tiers.all()) == [gold]


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"starts_on": "2026-05-31", "ends_on": "2026-05-01"}, "ends_on", "vor dem ersten"),
        ({"trigger": "custom", "event": "Workshop besucht!"}, "event", "Kleinbuchstaben"),
        ({"trigger": "custom", "event": ""}, "event", "workshop_besucht"),
        ({"points": "0"}, "points", "größer oder gleich 1"),
        ({"points": "viele"}, "points", "ganze Zahl"),
        ({"name": ""}, "name", "zwingend erforderlich"),
    ],
)
def test_a_bad_rule_is_shown_again_with_a_german_message(
    client_of, owner, program, data, field, words
):
    form = {"name": "Bewertung", "trigger": "review", "points": "20", "limit": "once"}
    response = client_of(owner).post(reverse("loyalty:action_rule_new"), {**form, **data})
    assert response.status_code == 400
    assert words in " ".join(response.context["form"].errors[field])
    assert not ActionRule.objects.exists()


def test_a_rule_is_switched_off_by_editing_it(client_of, owner, rule, anna_member, anna):
    response = client_of(owner).post(
        reverse("loyalty:action_rule_edit", args=[rule.pk]),
        {"name": "Bewertung", "trigger": "review", "points": "20", "limit": "unlimited"},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.active is False
    assert services.record_action(customer=anna, action="review", reference="R").reason == (
        "no_rule"
    )


def test_an_unknown_rule_is_404(client_of, owner, program):
    assert client_of(owner).get(reverse("loyalty:action_rule_edit", args=[999])).status_code == 404


def test_the_rule_list_needs_few_queries(
    client_of, owner, rule, anna_member, anna, django_assert_num_queries
):
    gold = services.save_tier(name="Gold", rank=2, threshold=50_000)
    for n in range(3):
        services.save_action_rule(
            name=f"Umfrage {n}", trigger="survey", points=5, limit="once", eligible_tiers=[gold]
        )
    services.record_action(customer=anna, action="review", reference="R-1")
    client = client_of(owner)
    client.get(reverse("loyalty:action_rules"))  # warm the session
    # Session, user, permissions, programme settings, rules with their counts, their tiers …
    with django_assert_num_queries(8):
        response = client.get(reverse("loyalty:action_rules"))
    page = response.content.decode()
    assert "Umfrage 2" in page and "Gold" in page and "1 ×" in page


def test_staff_see_what_recording_did(client_of, marketer, rule, anna_member):
    url = reverse("loyalty:member_action", args=[anna_member.pk])
    client = client_of(marketer)
    first = client.post(url, {"action": "review", "reference": "R-1"}, follow=True)
    assert "20 Bohnen gutgeschrieben" in first.content.decode()
    again = client.post(url, {"action": "review", "reference": "R-1"}, follow=True)
    assert "bereits erfasst" in again.content.decode()
    entry = PointsEntry.objects.get(source_rule="review")
    assert entry.staff_user == marketer


def test_without_a_reference_each_recording_is_a_new_occasion(
    client_of, marketer, rule, anna_member
):
    url = reverse("loyalty:member_action", args=[anna_member.pk])
    client = client_of(marketer)
    client.post(url, {"action": "review"})
    client.post(url, {"action": "review"})
    assert PointsEntry.objects.filter(source_rule="review").count() == 2


def test_a_bad_recording_is_shown_on_the_member_page(client_of, marketer, rule, anna_member):
    url = reverse("loyalty:member_action", args=[anna_member.pk])
    response = client_of(marketer).post(url, {"action": "social"})
    assert response.status_code == 400
    assert response.context["action_form"].errors["network"]
