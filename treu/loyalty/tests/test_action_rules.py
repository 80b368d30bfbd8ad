"""Earning rules for actions: recording actions, limits, windows, tiers, membership, the
daily birthday and anniversary awards and the events of other apps."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone, translation

from treu.core import events
from treu.core.models import DomainEvent
from treu.customers.models import Customer
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.events import POINTS_CHANGED
from treu.loyalty.models import (
    ActionAward,
    EntryKind,
    EntryStatus,
    Member,
    Membership,
    MemberTier,
    PointsEntry,
    Tier,
)
from treu.loyalty.tests.conftest import assert_sums_match_ledger, start_program

pytestmark = pytest.mark.django_db

BERLIN = timezone.get_default_timezone()


def make_rule(trigger="review", points=20, **fields):
    values = {"name": f"Regel {trigger}", "trigger": trigger, "points": points, "limit": "once"}
    values.update(fields)
    return services.save_action_rule(**values)


def at_berlin(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def balance(member: Member) -> int:
    member.refresh_from_db()
    return member.points_balance


# -- Recording an action ----------------------------------------------------------------------


def test_a_review_earns_available_points_once_per_reference(anna_member, anna, after_commit):
    rule = make_rule("review", points=25, name="Bewertung", limit="unlimited")
    with after_commit():
        outcome = services.record_action(customer=anna, action="review", reference="R-1")
    assert outcome.points == 25 and outcome.reason == ""
    entry = PointsEntry.objects.get(member=anna_member, source_rule="review")
    assert (entry.kind, entry.status, entry.points) == (EntryKind.EARN, EntryStatus.AVAILABLE, 25)
    assert entry.key == f"rule:{rule.pk}:{anna_member.pk}:R-1"
    assert entry.reason == "Bewertung (R-1)"
    award = ActionAward.objects.get()
    assert (award.rule, award.reference, award.year) == (rule, "R-1", timezone.localdate().year)
    event = DomainEvent.objects.get(kind=POINTS_CHANGED, payload__rule="review")
    assert event.payload["available_change"] == 25 and event.payload["balance"] == 25
    again = services.record_action(customer=anna, action="review", reference="R-1")
    assert again.points == 0 and again.reason == "already_recorded"
    assert "bereits erfasst" in again.message
    assert balance(anna_member) == 25
    assert_sums_match_ledger(anna_member)


def test_a_once_rule_awards_the_first_occasion_only(anna_member, anna):
    make_rule("review", limit="once")
    assert services.record_action(customer=anna, action="review", reference="R-1").points == 20
    second = services.record_action(customer=anna, action="review", reference="R-2")
    assert second.reason == "limit_reached" and second.message.startswith("Limit erreicht")
    assert balance(anna_member) == 20


def test_a_per_year_rule_awards_once_per_berlin_calendar_year(anna_member, anna):
    make_rule("survey", limit="per_year")
    new_year = datetime(2026, 1, 1, 0, 30, tzinfo=BERLIN)  # 23:30 UTC on 31 December
    late = datetime(2025, 12, 31, 23, 59, tzinfo=BERLIN)
    first = services.record_action(
        customer=anna, action="survey", reference="S-1", occurred_at=late
    )
    same_year = services.record_action(
        customer=anna, action="survey", reference="S-2", occurred_at=late - timedelta(days=200)
    )
    next_year = services.record_action(
        customer=anna, action="survey", reference="S-3", occurred_at=new_year
    )
    assert (first.points, same_year.reason, next_year.points) == (20, "limit_reached", 20)
    assert sorted(ActionAward.objects.values_list("year", flat=True)) == [2025, 2026]


def test_an_unlimited_rule_awards_every_new_occasion(anna_member, anna):
    make_rule("review", limit="unlimited", points=5)
    for n in range(4):
        services.record_action(customer=anna, action="review", reference=f"R-{n}")
    assert balance(anna_member) == 20


def test_every_matching_rule_awards_on_its_own(anna_member, anna):
    make_rule("review", points=20, name="Bewertung")
    make_rule("review", points=10, name="Mai-Aktion: Bewertungen doppelt")
    outcome = services.record_action(customer=anna, action="review", reference="R-1")
    assert outcome.points == 30 and len(outcome.awards) == 2
    assert_sums_match_ledger(anna_member)


@pytest.mark.parametrize(
    ("moment", "awarded"),
    [
        (datetime(2026, 4, 30, 23, 59, tzinfo=BERLIN), False),  # the day before the window
        (datetime(2026, 5, 1, 0, 0, tzinfo=BERLIN), True),  # its first minute
        (datetime(2026, 5, 31, 23, 59, tzinfo=BERLIN), True),  # the last day is included
        (datetime(2026, 6, 1, 0, 0, tzinfo=BERLIN), False),  # 22:00 UTC on 31 May: June in Berlin
    ],
)
def test_the_window_is_whole_berlin_days_both_ends_included(anna_member, anna, moment, awarded):
    make_rule("review", starts_on=date(2026, 5, 1), ends_on=date(2026, 5, 31))
    outcome = services.record_action(
        customer=anna, action="review", reference="R-1", occurred_at=moment
    )
    assert (outcome.points == 20) is awarded
    assert outcome.reason == ("" if awarded else "no_rule")


def test_an_inactive_rule_awards_nothing(anna_member, anna):
    make_rule("review", active=False)
    outcome = services.record_action(customer=anna, action="review", reference="R-1")
    assert outcome.reason == "no_rule" and "Keine aktive Regel" in outcome.message
    assert not PointsEntry.objects.filter(source_rule="review").exists()


def test_eligible_tiers_limit_a_rule_to_their_members(anna_member, anna, ben, program):
    gold = services.save_tier(name="Gold", rank=2, threshold=50_000)
    silver = services.save_tier(name="Silber", rank=1, threshold=10_000)
    make_rule("review", eligible_tiers=[gold])
    outcome = services.record_action(customer=anna, action="review", reference="R-1")
    assert outcome.reason == "not_eligible"
    MemberTier.objects.create(member=anna_member, tier=silver, updated_at=timezone.now())
    assert services.record_action(customer=anna, action="review", reference="R-1").reason == (
        "not_eligible"
    )
    MemberTier.objects.filter(member=anna_member).update(tier=gold)
    assert services.record_action(customer=anna, action="review", reference="R-1").points == 20


def test_a_rule_without_tiers_is_for_every_member(anna_member, anna):
    services.save_tier(name="Gold", rank=2, threshold=50_000)
    make_rule("review")
    assert services.record_action(customer=anna, action="review", reference="R-1").points == 20


def test_a_customer_who_did_not_join_earns_nothing(program, ben):
    make_rule("review")
    outcome = services.record_action(customer=ben, action="review", reference="R-1")
    assert outcome.reason == "not_member" and "Nicht Mitglied" in outcome.message
    assert not Member.objects.exists()


def test_when_every_customer_is_a_member_an_action_makes_the_member(db, ben):
    start_program(membership=Membership.ALL, welcome_points=5)
    make_rule("newsletter", points=30)
    outcome = services.record_action(customer=ben, action="newsletter", reference="C-1")
    member = Member.objects.get(customer=ben)
    assert outcome.member == member and outcome.points == 30
    assert balance(member) == 35  # the welcome points come with joining


def test_when_every_customer_is_a_member_no_rule_makes_no_member(db, ben):
    start_program(membership=Membership.ALL)
    outcome = services.record_action(customer=ben, action="newsletter", reference="C-1")
    assert outcome.reason == "no_rule" and not Member.objects.exists()


def test_nothing_is_earned_before_the_programme_is_set_up(db, ben):
    outcome = services.record_action(customer=ben, action="review", reference="R-1")
    assert outcome.reason == "not_started" and not PointsEntry.objects.exists()


def test_each_network_earns_once_in_a_members_life_whatever_the_limit(anna_member, anna):
    make_rule("social", limit="unlimited", points=10, name="Folgen")
    first = services.record_action(customer=anna, action="social", network="instagram")
    again = services.record_action(
        customer=anna, action="social", network="Instagram", reference="neuer Post"
    )
    other = services.record_action(customer=anna, action="social", network="tiktok")
    assert (first.points, again.reason, other.points) == (10, "already_recorded", 10)
    # A rule added later does not pay for the same network again.
    make_rule("social", limit="unlimited", points=50, name="Sommeraktion")
    later = services.record_action(customer=anna, action="social", network="instagram")
    assert later.reason == "already_recorded" and not later.awards
    assert balance(anna_member) == 20


def test_a_social_rule_for_one_network_ignores_the_others(anna_member, anna):
    make_rule("social", network="instagram", points=10)
    assert services.record_action(customer=anna, action="social", network="facebook").reason == (
        "no_rule"
    )
    assert services.record_action(customer=anna, action="social", network="instagram").points == 10


def test_a_custom_event_earns_under_its_own_name_only(anna_member, anna):
    make_rule("custom", event="Workshop_besucht ", points=40)
    other = services.record_action(
        customer=anna, action="custom", event="verkostung", reference="W-1"
    )
    mine = services.record_action(
        customer=anna, action="custom", event="workshop_besucht", reference="W-1"
    )
    assert (other.reason, mine.points) == ("no_rule", 40)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "birthday", "reference": "x"}, "action"),
        ({"action": "dance", "reference": "x"}, "action"),
        ({"action": "review", "reference": "  "}, "reference"),
        ({"action": "review", "reference": "x" * 61}, "reference"),
        ({"action": "social"}, "network"),
        ({"action": "social", "network": "myspace"}, "network"),
        ({"action": "custom", "reference": "x"}, "event"),
        ({"action": "custom", "reference": "x", "event": "Workshop besucht!"}, "event"),
    ],
)
def test_bad_input_is_refused_per_field_and_writes_nothing(anna_member, anna, kwargs, field):
    make_rule("review")
    with translation.override("de"), pytest.raises(services.LoyaltyError) as refused:
        services.record_action(customer=anna, **kwargs)
    assert field in refused.value.message_dict
    assert not PointsEntry.objects.filter(kind=EntryKind.EARN).exclude(source_rule="").exists()


def test_staff_recordings_carry_the_staff_member(anna_member, anna, marketer):
    make_rule("review", limit="unlimited")
    services.record_action(
        customer=anna, action="review", reference=services.staff_reference(), staff_user=marketer
    )
    services.record_action(
        customer=anna, action="review", reference=services.staff_reference(), staff_user=marketer
    )
    entries = PointsEntry.objects.filter(source_rule="review")
    assert entries.count() == 2 and {e.staff_user for e in entries} == {marketer}


def test_the_timeline_says_what_the_points_were_for(anna_member, anna, after_commit):
    make_rule("review")
    services.record_action(customer=anna, action="review", reference="R-1")
    event = DomainEvent.objects.get(kind=POINTS_CHANGED, payload__rule="review")
    with translation.override("de"):
        assert events.describe(event).title == "20 Bohnen für eine Produktbewertung"


# -- Rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"points": 0}, "points", "größer oder gleich 1"),
        ({"starts_on": date(2026, 5, 2), "ends_on": date(2026, 5, 1)}, "ends_on", "vor dem ersten"),
        ({"trigger": "custom", "event": ""}, "event", "workshop_besucht"),
        ({"trigger": "custom", "event": "Workshop besucht"}, "event", "Kleinbuchstaben"),
        ({"trigger": "custom", "event": "1a"}, "event", "Kleinbuchstaben"),
        ({"name": "  "}, "name", "nicht leer"),
        ({"limit": "daily"}, "limit", "keine gültige Option"),
    ],
)
def test_a_rule_is_refused_with_a_german_message_per_field(program, fields, field, words):
    with translation.override("de"), pytest.raises(services.LoyaltyError) as refused:
        make_rule(**{"trigger": "review", **fields})
    assert words in " ".join(refused.value.message_dict[field])


def test_fields_a_trigger_does_not_use_are_emptied(program):
    rule = make_rule("review", network="instagram", event="egal")
    assert (rule.network, rule.event) == ("", "")
    custom = make_rule("custom", event=" Workshop_Besucht ")
    assert custom.event == "workshop_besucht"


# -- Birthdays and anniversaries --------------------------------------------------------------

TODAY = date(2026, 6, 15)


@pytest.fixture
def birthday_rule(program):
    return make_rule("birthday", points=50, name="Geburtstag", limit="per_year")


def set_birthday(customer: Customer, birthday: date, entered_days_before: int | None) -> None:
    entered = (
        None
        if entered_days_before is None
        else at_berlin(TODAY - timedelta(days=entered_days_before), 23, 59)
    )
    Customer.objects.filter(pk=customer.pk).update(birthday=birthday, birthday_entered_at=entered)


def member_since(customer: Customer, day: date) -> Member:
    member = services.join_program(customer=customer, now=at_berlin(day))
    return member


def test_a_member_gets_birthday_points_on_the_day_and_once(birthday_rule, anna, after_commit):
    member = member_since(anna, TODAY - timedelta(days=400))
    set_birthday(anna, date(1990, 6, 15), entered_days_before=None)
    with after_commit():
        assert services.award_birthday_points(today=TODAY) == 50
    assert services.award_birthday_points(today=TODAY) == 0
    assert services.award_birthday_points(today=TODAY + timedelta(days=1)) == 0
    entry = PointsEntry.objects.get(member=member, source_rule="birthday")
    assert entry.key == f"rule:{birthday_rule.pk}:{member.pk}:2026"
    assert entry.status == EntryStatus.AVAILABLE
    assert DomainEvent.objects.filter(kind=POINTS_CHANGED, payload__rule="birthday").count() == 1
    assert_sums_match_ledger(member)


@pytest.mark.parametrize(
    ("entered_days_before", "awarded"), [(29, False), (30, True), (400, True), (0, False)]
)
def test_a_birthday_entered_less_than_30_days_ahead_earns_nothing_this_year(
    birthday_rule, anna, entered_days_before, awarded
):
    member_since(anna, TODAY - timedelta(days=400))
    set_birthday(anna, date(1990, 6, 15), entered_days_before=entered_days_before)
    assert services.award_birthday_points(today=TODAY) == (50 if awarded else 0)


def test_a_birthday_entered_late_earns_next_year(birthday_rule, anna):
    member_since(anna, TODAY - timedelta(days=400))
    set_birthday(anna, date(1990, 6, 15), entered_days_before=3)
    assert services.award_birthday_points(today=TODAY) == 0
    assert services.award_birthday_points(today=date(2027, 6, 15)) == 50


def test_29_february_is_celebrated_on_28_february_in_other_years(birthday_rule, anna):
    member_since(anna, date(2020, 1, 1))
    Customer.objects.filter(pk=anna.pk).update(birthday=date(2000, 2, 29))
    assert services.award_birthday_points(today=date(2027, 2, 27)) == 0
    assert services.award_birthday_points(today=date(2027, 2, 28)) == 50
    # A leap year: on the 29th (the run on the 28th and the 1 March catch-up both look).
    assert services.award_birthday_points(today=date(2028, 2, 28)) == 0
    assert services.award_birthday_points(today=date(2028, 2, 29)) == 50
    assert services.award_birthday_points(today=date(2028, 3, 1)) == 0


def test_a_missed_day_is_caught_up_for_three_days(birthday_rule, anna, ben):
    member_since(anna, TODAY - timedelta(days=400))
    member_since(ben, TODAY - timedelta(days=400))
    Customer.objects.filter(pk=anna.pk).update(birthday=date(1990, 6, 12))  # 3 days ago
    Customer.objects.filter(pk=ben.pk).update(birthday=date(1990, 6, 11))  # 4 days ago
    assert services.award_birthday_points(today=TODAY) == 50
    assert PointsEntry.objects.get(source_rule="birthday").member.customer == anna


def test_no_birthday_points_before_joining_or_outside_the_window(birthday_rule, anna, ben):
    member_since(anna, TODAY + timedelta(days=0))  # joins on her birthday: counts
    member_since(ben, TODAY + timedelta(days=1))
    Customer.objects.filter(pk__in=[anna.pk, ben.pk]).update(birthday=date(1990, 6, 15))
    assert services.award_birthday_points(today=TODAY) == 50
    services.save_action_rule(rule=birthday_rule, ends_on=TODAY - timedelta(days=1))
    Customer.objects.filter(pk=anna.pk).update(birthday=date(1990, 6, 16))
    assert services.award_birthday_points(today=TODAY + timedelta(days=1)) == 0


def test_a_once_birthday_rule_pays_one_birthday_only(program, anna):
    make_rule("birthday", points=50, limit="once")
    member_since(anna, date(2020, 1, 1))
    Customer.objects.filter(pk=anna.pk).update(birthday=date(1990, 6, 15))
    assert services.award_birthday_points(today=TODAY) == 50
    assert services.award_birthday_points(today=date(2027, 6, 15)) == 0


def test_birthday_rules_respect_eligible_tiers(program, anna, ben):
    gold = services.save_tier(name="Gold", rank=2, threshold=50_000)
    make_rule("birthday", points=50, limit="per_year", eligible_tiers=[gold])
    anna_member = member_since(anna, date(2020, 1, 1))
    member_since(ben, date(2020, 1, 1))
    MemberTier.objects.create(member=anna_member, tier=gold, updated_at=timezone.now())
    Customer.objects.filter(pk__in=[anna.pk, ben.pk]).update(birthday=date(1990, 6, 15))
    assert services.award_birthday_points(today=TODAY) == 50
    assert PointsEntry.objects.get(source_rule="birthday").member == anna_member


def test_erased_customers_and_non_members_get_no_birthday_points(birthday_rule, anna, ben):
    Customer.objects.filter(pk=anna.pk).update(birthday=date(1990, 6, 15))  # not a member
    assert services.award_birthday_points(today=TODAY) == 0


def test_the_first_purchase_anniversary_earns_once_a_year(program, anna, ben):
    make_rule("anniversary", points=30, limit="per_year")
    member_since(anna, date(2020, 1, 1))
    member_since(ben, date(2020, 1, 1))
    # 00:30 Berlin on 15 June 2024 is 22:30 UTC on 14 June: the Berlin date counts.
    Customer.objects.filter(pk=anna.pk).update(
        first_order_at=datetime(2024, 6, 15, 0, 30, tzinfo=BERLIN)
    )
    Customer.objects.filter(pk=ben.pk).update(first_order_at=at_berlin(date(2026, 6, 15)))
    assert services.award_anniversary_points(today=date(2026, 6, 14)) == 0
    assert services.award_anniversary_points(today=TODAY) == 30  # not Ben: first order today
    assert services.award_anniversary_points(today=TODAY) == 0
    assert services.award_anniversary_points(today=date(2027, 6, 15)) == 60


def test_a_day_with_nothing_to_do_costs_few_queries(birthday_rule, django_assert_num_queries):
    with django_assert_num_queries(7):  # settings, rules, one look per day
        services.award_birthday_points(today=TODAY)


# -- Events of other apps ---------------------------------------------------------------------


@pytest.fixture
def foreign_kinds(monkeypatch):
    """The kinds the reviews, surveys and messaging apps will register."""
    for name in ("review.published", "survey.answered", "consent.confirmed"):
        monkeypatch.setitem(events._kinds, name, events.EventKind(name=name, label=name))


def test_a_published_review_earns_points(foreign_kinds, anna_member, anna, after_commit):
    make_rule("review")
    with after_commit():
        events.publish("review.published", customer=anna, payload={"review_id": 4711})
    with after_commit():
        events.publish("review.published", customer=anna, payload={"review_id": 4711})
    assert ActionAward.objects.get().reference == "4711"
    assert balance(anna_member) == 20


def test_an_answered_survey_earns_points_once_per_survey(
    foreign_kinds, anna_member, anna, after_commit
):
    make_rule("survey", limit="unlimited")
    for response in ("a", "b"):
        with after_commit():
            events.publish(
                "survey.answered", customer=anna, payload={"survey_id": 7, "response_id": response}
            )
    assert balance(anna_member) == 20


@pytest.mark.parametrize(
    ("payload", "points"),
    [
        ({"channel": "email", "purpose": "newsletter", "consent_id": 12}, 30),
        ({"channel": "sms", "purpose": "newsletter", "consent_id": 12}, 0),
        ({"channel": "email", "purpose": "tracking", "consent_id": 12}, 0),
    ],
)
def test_a_confirmed_newsletter_opt_in_earns_points(
    foreign_kinds, anna_member, anna, after_commit, payload, points
):
    make_rule("newsletter", points=30)
    with after_commit():
        events.publish("consent.confirmed", customer=anna, payload=payload)
    assert balance(anna_member) == points


def test_an_event_without_customer_or_reference_is_skipped(
    foreign_kinds, anna_member, anna, after_commit, caplog
):
    make_rule("review")
    with after_commit():
        events.publish("review.published", customer=None, payload={"review_id": 1})
        events.publish("review.published", customer=anna, payload={})
        events.publish("review.published", customer=anna, payload={"review_id": "x" * 80})
    assert not ActionAward.objects.exists()
    assert caplog.text.count("no points") == 3


# -- Merging and erasure ----------------------------------------------------------------------


def test_merged_members_keep_their_awards_and_sums(anna_member, anna, marketer):
    make_rule("review", limit="unlimited")
    duplicate = CustomerFactory(email="a.mueller@web.de")
    services.join_program(customer=duplicate)
    services.record_action(customer=anna, action="review", reference="R-1")
    services.record_action(customer=duplicate, action="review", reference="R-1")
    from treu.customers import services as customer_services

    customer_services.merge_customers(survivor=anna, duplicate=duplicate, by=marketer)
    assert ActionAward.objects.filter(entry__member=anna_member).count() == 2
    assert_sums_match_ledger(anna_member)


def test_erasing_a_customer_deletes_their_awards(anna_member, anna):
    from treu.core import privacy

    make_rule("review")
    services.record_action(customer=anna, action="review", reference="R-1")
    assert "R-1" in str(privacy.export_customer(anna))
    privacy.erase_customer(anna)
    assert not ActionAward.objects.exists() and not Tier.objects.exists()
