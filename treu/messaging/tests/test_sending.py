"""Sending a template to many customers: consent, control group, cap, quiet hours, zones."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treu.commerce.models import Order
from treu.commerce.tests.factories import ShopFactory
from treu.customers.services import merge_customers
from treu.customers.tests.factories import CustomerFactory
from treu.messaging import selectors, services
from treu.messaging.consent_mail import marketing_message
from treu.messaging.models import (
    Holdout,
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
    SendingRules,
)
from treu.messaging.tests.sending_world import consenting_customer, newsletter

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=BERLIN)


def send(customers, prefix="campaign:1", *, template=None, now=MONDAY_NOON, **kwargs):
    return services.send_mail_template(
        services.MailSend(
            prefix=prefix,
            mail_template=template or newsletter(),
            customer_ids=[c.pk for c in customers],
            **kwargs,
        ),
        now=now,
    )


def rows(prefix="campaign:1"):
    return OutboundMessage.objects.filter(key__startswith=f"{prefix}:customer:")


def test_marketing_goes_only_to_customers_with_a_valid_consent():
    anna = consenting_customer(first_name="Anna")
    ben = CustomerFactory(first_name="Ben")  # never signed up
    changed = consenting_customer(first_name="Cleo")
    changed.email = "cleo.neu@example.de"  # the consent was for the old address
    changed.save()
    report = send([anna, ben, changed])
    assert (report.queued, report.without_consent) == (1, 2)
    (mail,) = rows()
    assert (mail.customer_id, mail.to_email, mail.purpose) == (anna.pk, anna.email, "marketing")
    assert mail.subject == "Anna, der Kaffee des Monats ist da"
    assert "HALLO ANNA" in mail.text_body and "Hallo Anna" in mail.html_body


def test_a_transactional_template_needs_no_consent_but_an_address():
    ben = CustomerFactory(first_name="Ben")
    nobody = CustomerFactory(email=None)
    template = newsletter(kind=MessagePurpose.TRANSACTIONAL, name="Punkte verfallen")
    report = send([ben, nobody], template=template, now=datetime(2026, 3, 2, 23, tzinfo=BERLIN))
    assert (report.queued, report.without_consent) == (1, 1)
    (mail,) = rows()
    assert mail.purpose == "transactional" and "List-Unsubscribe" not in mail.headers
    # No quiet hours for a service message: it goes when it is due.
    assert mail.not_before == datetime(2026, 3, 2, 23, tzinfo=BERLIN)


def test_every_marketing_mail_carries_the_unsubscribe_frame_of_marketing_message():
    anna = consenting_customer(first_name="Anna")
    send([anna])
    (mail,) = rows()
    single = marketing_message(customer=anna, subject="x", text="Inhalt", html="<p>x</p>")
    assert mail.headers["List-Unsubscribe"] == single.extra_headers["List-Unsubscribe"]
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    footer = single.body.split("Inhalt", 1)[1].strip()
    assert mail.text_body.rstrip().endswith(footer)
    html_footer = single.alternatives[0][0].split("<p>x</p>", 1)[1]
    assert html_footer.strip() in mail.html_body


def test_running_a_send_again_writes_nothing_twice():
    people = [consenting_customer() for _ in range(3)]
    first = send(people)
    again = send(people + [consenting_customer()])
    assert (first.queued, again.queued, again.already) == (3, 1, 3)
    assert rows().count() == 4


def test_the_control_group_is_held_back_and_recorded_once():
    people = [consenting_customer() for _ in range(120)]
    report = send(people, control_percent=25)
    assert report.queued + report.held_out == 120
    assert 10 < report.held_out < 50  # a fair coin for a quarter
    held = set(Holdout.objects.filter(prefix="campaign:1").values_list("customer_id", flat=True))
    assert held == set(report.held_out_ids)
    assert not held & set(rows().values_list("customer_id", flat=True))
    # The same coin on every run: nobody moves between the groups.
    again = send(people, control_percent=25)
    assert (again.queued, again.held_out, again.already) == (0, 0, 120)
    assert all(
        services.in_control_group("campaign:1", pk, 25) == (pk in held) for pk in report.queued_ids
    )


def test_a_control_group_over_half_is_refused():
    with pytest.raises(services.OutboxError):
        send([consenting_customer()], control_percent=60)


def test_the_frequency_cap_counts_every_marketing_mail_within_a_week_either_side():
    rules = SendingRules.current()
    rules.weekly_cap = 2
    rules.save()
    anna, ben = consenting_customer(), consenting_customer()
    send([anna, ben], "campaign:1", now=MONDAY_NOON - timedelta(days=6))
    send([anna], "flow:3:step:1", now=MONDAY_NOON - timedelta(days=2))
    report = send([anna, ben], "campaign:2")
    assert (report.queued_ids, report.at_cap) == ([ben.pk], 1)
    # Eight days on, the first mail is out of the window again.
    later = send([anna], "campaign:3", now=MONDAY_NOON + timedelta(days=8))
    assert later.queued == 1


def test_failed_and_suppressed_mails_do_not_count_towards_the_cap():
    rules = SendingRules.current()
    rules.weekly_cap = 1
    rules.save()
    anna = consenting_customer()
    send([anna], "campaign:1")
    rows("campaign:1").update(status=MessageStatus.SUPPRESSED)
    assert send([anna], "campaign:2").queued == 1


def test_quiet_hours_hold_a_mail_until_their_end_in_the_customers_own_zone():
    berlin = consenting_customer(country="DE")
    london = consenting_customer(country="GB")
    late = datetime(2026, 3, 2, 22, 30, tzinfo=BERLIN)
    send([berlin, london], now=late)
    times = dict(rows().values_list("customer_id", "not_before"))
    assert times[berlin.pk] == datetime(2026, 3, 3, 8, 0, tzinfo=BERLIN)
    assert times[london.pk] == datetime(2026, 3, 3, 8, 0, tzinfo=LONDON)


def test_a_local_send_time_is_each_customers_own_wall_clock():
    berlin = consenting_customer(country="DE")
    london = consenting_customer(country="GB")
    nowhere = consenting_customer()  # no address: the shop's zone
    send([berlin, london, nowhere], local=datetime.combine(date(2026, 3, 3), time(10)))
    times = dict(rows().values_list("customer_id", "not_before"))
    assert times[berlin.pk] == times[nowhere.pk] == datetime(2026, 3, 3, 10, tzinfo=BERLIN)
    assert times[london.pk] == datetime(2026, 3, 3, 10, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [
        (time(7, 59), datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)),
        (time(8, 0), datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)),
        (time(19, 59), datetime(2026, 3, 2, 19, 59, tzinfo=BERLIN)),
        (time(20, 0), datetime(2026, 3, 3, 8, 0, tzinfo=BERLIN)),
        (time(0, 0), datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)),
    ],
)
def test_quiet_hours_over_midnight(local_time, expected):
    rules = SendingRules(quiet_from=time(20), quiet_until=time(8))
    moment = datetime.combine(date(2026, 3, 2), local_time, tzinfo=BERLIN)
    assert selectors.after_quiet_hours(moment, BERLIN, rules) == expected


def test_quiet_hours_within_a_day_and_none():
    lunch = SendingRules(quiet_from=time(12), quiet_until=time(14))
    moment = datetime(2026, 3, 2, 12, 30, tzinfo=BERLIN)
    assert selectors.after_quiet_hours(moment, BERLIN, lunch) == moment.replace(hour=14, minute=0)
    none = SendingRules(quiet_from=time(0), quiet_until=time(0))
    assert selectors.after_quiet_hours(moment, BERLIN, none) == moment


def test_the_spring_clock_change_does_not_lose_the_morning():
    rules = SendingRules(quiet_from=time(1), quiet_until=time(2, 30))
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)  # 02:00–03:00 does not exist
    moved = selectors.after_quiet_hours(moment, BERLIN, rules)
    assert moved > moment


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cap=st.integers(min_value=1, max_value=3),
    hours=st.lists(st.integers(min_value=0, max_value=24 * 30), min_size=1, max_size=12),
)
def test_no_seven_day_window_ever_holds_more_than_the_cap(cap, hours):
    """Sends at random moments, in any order: each customer's marketing mails never exceed
    the cap within any seven days."""
    rules = SendingRules.current()
    rules.weekly_cap, rules.quiet_from, rules.quiet_until = cap, time(0), time(0)
    rules.save()
    customer = consenting_customer()
    template = newsletter()
    for n, hour in enumerate(hours):
        send(
            [customer], f"campaign:{n}", template=template, now=MONDAY_NOON + timedelta(hours=hour)
        )
    times = sorted(rows_of(customer))
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t - start < timedelta(days=7)) <= cap


def test_the_cap_counts_real_time_across_the_clock_change():
    """Found by the property above: 22 March 03:00 CET and 29 March 03:00 CEST are 6 days
    and 23 hours apart, though a Berlin clock shows a week."""
    rules = SendingRules.current()
    rules.weekly_cap, rules.quiet_from, rules.quiet_until = 1, time(0), time(0)
    rules.save()
    anna = consenting_customer()
    template = newsletter()
    send([anna], "campaign:1", template=template, now=datetime(2026, 3, 22, 3, tzinfo=BERLIN))
    later = send(
        [anna], "campaign:2", template=template, now=datetime(2026, 3, 29, 3, tzinfo=BERLIN)
    )
    assert (later.queued, later.at_cap) == (0, 1)


def rows_of(customer):
    return OutboundMessage.objects.filter(customer_id=customer.pk).values_list(
        "not_before", flat=True
    )


def order(customer, placed, cents):
    return Order.objects.create(
        shop=ShopFactory(), external_id=f"O{customer.pk}-{placed:%s}", number=f"#{placed:%s}",
        customer=customer, status="paid", subtotal_cents=cents, total_cents=cents, tax_cents=0,
        net_cents=cents, placed_at=placed,
    )  # fmt: skip


def test_the_outcome_compares_recipients_with_the_control_group():
    people = [consenting_customer() for _ in range(40)]
    report = send(people, control_percent=50)
    sent_at = MONDAY_NOON + timedelta(hours=1)
    rows().update(status=MessageStatus.SENT, sent_at=sent_at)
    by_id = {c.pk: c for c in people}
    buyer = by_id[report.queued_ids[0]]
    order(buyer, sent_at + timedelta(days=1), 2500)
    order(buyer, sent_at + timedelta(days=2), 1500)
    order(by_id[report.queued_ids[1]], sent_at - timedelta(days=1), 9900)  # before: no
    order(by_id[report.queued_ids[2]], sent_at + timedelta(days=9), 9900)  # too late
    held = by_id[report.held_out_ids[0]]
    order(held, MONDAY_NOON + timedelta(days=3), 1000)
    outcome = selectors.send_outcome(
        "campaign:1", window=timedelta(days=5), now=MONDAY_NOON + timedelta(days=30)
    )
    assert outcome.recipients == selectors.GroupOutcome(
        people=report.queued, converted=1, revenue_cents=4000, revenue_squares=4000**2
    )
    assert outcome.control == selectors.GroupOutcome(
        people=report.held_out, converted=1, revenue_cents=1000, revenue_squares=1000**2
    )


def test_merging_customers_keeps_one_place_per_control_group():
    anna, dup = consenting_customer(), consenting_customer()
    Holdout.objects.create(prefix="campaign:1", customer=anna, at=MONDAY_NOON)
    Holdout.objects.create(prefix="campaign:1", customer=dup, at=MONDAY_NOON)
    Holdout.objects.create(prefix="campaign:2", customer=dup, at=MONDAY_NOON)
    merge_customers(survivor=anna, duplicate=dup)
    assert sorted(Holdout.objects.values_list("prefix", "customer_id")) == [
        ("campaign:1", anna.pk),
        ("campaign:2", anna.pk),
    ]


def test_saving_sending_rules_validates():
    with pytest.raises(services.SendingRulesError):
        services.save_sending_rules(weekly_cap=99, quiet_from=time(20), quiet_until=time(8))
    rules = services.save_sending_rules(weekly_cap=0, quiet_from=time(21), quiet_until=time(7))
    assert (rules.weekly_cap, rules.quiet_from) == (0, time(21))
    assert SendingRules.objects.count() == 1


def test_an_occurrence_lets_the_same_send_reach_a_customer_again():
    anna = consenting_customer()
    template = newsletter()
    first = send([anna], "flow:3:step:1", template=template, occurrences={anna.pk: "run:1"})
    same = send([anna], "flow:3:step:1", template=template, occurrences={anna.pk: "run:1"})
    later = send(
        [anna],
        "flow:3:step:1",
        template=template,
        occurrences={anna.pk: "run:2"},
        now=MONDAY_NOON + timedelta(days=30),
    )
    assert (first.queued, same.already, later.queued) == (1, 1, 1)
    assert sorted(rows("flow:3:step:1").values_list("key", flat=True)) == [
        f"flow:3:step:1:customer:{anna.pk}:run:1",
        f"flow:3:step:1:customer:{anna.pk}:run:2",
    ]
    # Attribution still sees the step: the key up to ":customer:".
    assert selectors.conversions_by_prefix(["flow:3:step:1"])["flow:3:step:1"].orders == 0


def test_the_outcome_of_a_send_counts_each_recipient_once_from_their_first_mail():
    """A/B variants and automation steps sit under the send's prefix; "campaign:1" is not
    "campaign:10"."""
    anna, ben, cleo = (consenting_customer() for _ in range(3))
    template = newsletter()
    send([anna], "flow:3:step:1", template=template)
    send([anna, ben], "flow:3:step:2", template=template, now=MONDAY_NOON + timedelta(days=1))
    send([cleo], "flow:30:step:1", template=template)
    OutboundMessage.objects.update(status=MessageStatus.SENT, sent_at=F("not_before"))
    order(anna, MONDAY_NOON + timedelta(hours=2), 1200)  # after her first mail only
    order(ben, MONDAY_NOON + timedelta(hours=2), 5000)  # before his mail
    outcome = selectors.send_outcome(
        "flow:3", window=timedelta(days=5), now=MONDAY_NOON + timedelta(days=30)
    )
    assert outcome.recipients == selectors.GroupOutcome(2, 1, 1200, 1200**2)
    assert outcome.control == selectors.GroupOutcome(0, 0, 0, 0)


def test_mail_lines_stay_short_so_the_html_part_needs_no_quoted_printable():
    """Over 998 characters a line forces quoted-printable, which Python encodes character by
    character for every one of a campaign's mails."""
    from django.core.mail import EmailMultiAlternatives

    anna = consenting_customer(first_name="Anna")
    send([anna])
    (mail,) = rows()
    assert max(len(line) for line in mail.html_body.splitlines()) < 998
    message = EmailMultiAlternatives(mail.subject, mail.text_body, to=[mail.to_email])
    message.attach_alternative(mail.html_body, "text/html")
    assert b"quoted-printable" not in message.message().as_bytes()
