"""Campaigns: validation, the send, A/B tests with one control group, resuming, cancelling."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from treu.customers.tests.factories import CustomerFactory
from treu.messaging import selectors, services
from treu.messaging.models import (
    AbMetric,
    AbVariant,
    Campaign,
    CampaignStatus,
    EventKind,
    Holdout,
    MessageEvent,
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
)
from treu.messaging.services import campaigns as campaign_services
from treu.messaging.services import sending as sending_services
from treu.messaging.tests.campaign_world import (
    MONDAY_NOON,
    campaign,
    campaign_input,
    everyone,
)
from treu.messaging.tests.sending_world import consenting_customer, newsletter

pytestmark = pytest.mark.django_db


def keys(prefix: str) -> set[int]:
    return set(
        OutboundMessage.objects.filter(key__startswith=f"{prefix}:customer:").values_list(
            "customer_id", flat=True
        )
    )


def mails():
    return OutboundMessage.objects.filter(key__startswith="campaign:")


def held(prefix: str) -> set[int]:
    return set(Holdout.objects.filter(prefix=prefix).values_list("customer_id", flat=True))


def send_now(c, now=MONDAY_NOON):
    services.schedule_campaign(c, now=now)
    return services.run_campaign(c.pk, now=now)


# -- Validation ------------------------------------------------------------------------------


def test_it_refuses_a_campaign_without_segment_or_template_and_writes_nothing():
    data = services.CampaignInput(name=" ", segment=None, mail_template=None)
    with pytest.raises(services.CampaignError) as error:
        services.save_campaign(data=data, now=MONDAY_NOON)
    assert set(error.value.message_dict) == {"name", "segment", "mail_template"}
    assert error.value.message_dict["segment"] == [
        "Wählen Sie das Segment, an das die Kampagne geht."
    ]
    assert Campaign.objects.count() == 0


def test_it_refuses_a_transactional_template_a_past_time_and_half_a_schedule():
    service_mail = newsletter(kind=MessagePurpose.TRANSACTIONAL, name="Dienst")
    with pytest.raises(services.CampaignError) as error:
        campaign(mail_template=service_mail, send_date=date(2026, 3, 1), send_time=time(10))
    assert set(error.value.message_dict) == {"mail_template", "send_date"}
    with pytest.raises(services.CampaignError) as error:
        campaign(send_date=date(2026, 3, 9))
    assert "send_date" in error.value.message_dict
    assert Campaign.objects.count() == 0


def test_a_template_broken_after_saving_is_refused_when_scheduling():
    c = campaign()
    c.mail_template.blocks = [{"type": "text", "text": "{% if %}"}]
    c.mail_template.save()
    with pytest.raises(services.CampaignError) as error:
        services.schedule_campaign(c, now=MONDAY_NOON)
    assert "mail_template" in error.value.message_dict
    c.refresh_from_db()
    assert c.status == CampaignStatus.DRAFT and c.due_at is None


def test_an_ab_test_needs_its_variant():
    template = newsletter()
    cases = [
        ({"ab_variant": AbVariant.SUBJECT}, "subject_b"),
        ({"ab_variant": AbVariant.SUBJECT, "subject_b": template.subject}, "subject_b"),
        ({"ab_variant": AbVariant.SUBJECT, "subject_b": "Hallo {% if %}"}, "subject_b"),
        ({"ab_variant": AbVariant.TEMPLATE}, "template_b"),
        ({"ab_variant": AbVariant.TEMPLATE, "template_b": template}, "template_b"),
        ({"ab_variant": AbVariant.SUBJECT, "subject_b": "B", "ab_sample_percent": 80}, None),
        ({"ab_variant": "colour"}, "ab_variant"),
    ]
    segment = everyone()
    for fields, field in cases:
        with pytest.raises(services.CampaignError) as error:
            campaign(mail_template=template, segment=segment, **fields)
        assert field is None or field in error.value.message_dict, fields
    assert Campaign.objects.count() == 0


# -- Sending ---------------------------------------------------------------------------------


def test_sending_now_mails_the_consenting_members_and_holds_back_the_control_group():
    people = [consenting_customer() for _ in range(30)]
    CustomerFactory()  # in the segment, never consented
    c = campaign(control_percent=30)
    assert send_now(c) == CampaignStatus.SENT
    c.refresh_from_db()
    expected_held = {p.pk for p in people if sending_services.in_control_group(c.prefix, p.pk, 30)}
    assert held(c.prefix) == expected_held and expected_held
    assert keys(c.prefix) == {p.pk for p in people} - expected_held
    assert (c.status, c.audience_count, c.without_consent_count) == ("sent", 31, 1)
    assert c.finished_at is not None and c.lease_until is None
    # Run again: nothing is due, and even forced the send writes nothing twice.
    assert services.run_campaign(c.pk, now=MONDAY_NOON) is None
    Campaign.objects.filter(pk=c.pk).update(status=CampaignStatus.SENDING)
    services.run_campaign(c.pk, now=MONDAY_NOON)
    assert mails().count() == len(people) - len(expected_held)


def test_the_segment_is_refreshed_right_before_sending():
    c = campaign(control_percent=0)
    late = consenting_customer()  # joined after the segment was saved
    send_now(c)
    assert keys(c.prefix) == {late.pk}


def test_a_scheduled_campaign_waits_for_its_wall_time_in_the_first_zone():
    tokyo = consenting_customer(country="JP")
    berlin = consenting_customer(country="DE")
    c = campaign(control_percent=0, send_date=date(2026, 3, 3), send_time=time(10))
    services.schedule_campaign(c, now=MONDAY_NOON)
    c.refresh_from_db()
    # 10:00 in Tokyo comes first: 01:00 UTC.
    assert c.due_at == datetime(2026, 3, 3, 10, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert services.run_due_campaigns(now=c.due_at - timedelta(minutes=1)) == 0
    assert services.run_due_campaigns(now=c.due_at) == 1
    rows = dict(mails().values_list("customer_id", "not_before"))
    assert rows[tokyo.pk] == datetime(2026, 3, 3, 10, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert rows[berlin.pk] == datetime(2026, 3, 3, 10, tzinfo=ZoneInfo("Europe/Berlin"))


def test_a_crash_mid_send_is_finished_by_the_next_run_without_duplicates(monkeypatch):
    people = [consenting_customer() for _ in range(25)]
    c = campaign(control_percent=20)
    monkeypatch.setattr(campaign_services, "BATCH", 10)
    real, calls = campaign_services.send_mail_template, []

    def dies_on_the_second_batch(send, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(send, **kwargs)

    monkeypatch.setattr(campaign_services, "send_mail_template", dies_on_the_second_batch)
    services.schedule_campaign(c, now=MONDAY_NOON)
    with pytest.raises(RuntimeError):
        services.run_campaign(c.pk, now=MONDAY_NOON)
    c.refresh_from_db()
    assert c.status == CampaignStatus.SENDING and c.lease_until is not None
    written = mails().count()
    assert 0 < written < 25
    # Another worker leaves it alone while the lease holds, then finishes it.
    assert services.run_due_campaigns(now=MONDAY_NOON) == 0
    Campaign.objects.filter(pk=c.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert services.run_due_campaigns(now=MONDAY_NOON) == 1
    c.refresh_from_db()
    assert c.status == CampaignStatus.SENT
    everyone_ids = {p.pk for p in people}
    assert keys(c.prefix) | held(c.prefix) == everyone_ids
    assert not keys(c.prefix) & held(c.prefix)
    assert mails().count() == len(everyone_ids - held(c.prefix))


# -- A/B tests -------------------------------------------------------------------------------


def ab_campaign(**fields):
    values = {
        "control_percent": 20,
        "ab_variant": AbVariant.SUBJECT,
        "subject_b": "Frisch geröstet für {{ vorname|default:'dich' }}",
        "ab_sample_percent": 40,
        "ab_wait_hours": 4,
        "ab_metric": AbMetric.CLICKS,
    }
    return campaign(**(values | fields))


def test_an_ab_test_holds_back_one_control_group_drawn_from_the_whole_audience():
    people = {c.pk for c in (consenting_customer() for _ in range(120))}
    c = ab_campaign()
    assert send_now(c) == CampaignStatus.TESTING
    a, b, control = keys(f"{c.prefix}:a"), keys(f"{c.prefix}:b"), held(c.prefix)
    # One coin over the whole audience, under the campaign's own prefix only.
    assert control == {pk for pk in people if sending_services.in_control_group(c.prefix, pk, 20)}
    assert not held(f"{c.prefix}:a") and not held(f"{c.prefix}:b")
    assert a and b and not (a & b) and not ((a | b) & control)
    assert keys(c.prefix) == set()  # the rest waits for the winner
    c.refresh_from_db()
    assert c.due_at == MONDAY_NOON + timedelta(hours=4) and c.tested_at == MONDAY_NOON
    # Both subjects went out, each personalised.
    subjects = set(mails().values_list("subject", flat=True))
    assert any(s.startswith("Frisch geröstet für") for s in subjects)
    assert any("der Kaffee des Monats ist da" in s for s in subjects)
    # Not before the wait is over.
    assert services.run_due_campaigns(now=MONDAY_NOON + timedelta(hours=3)) == 0
    # B gets the clicks: B wins and goes to everyone not yet mailed and not held back.
    sent_at = MONDAY_NOON + timedelta(minutes=5)
    mails().update(status=MessageStatus.SENT, sent_at=sent_at)
    for message in OutboundMessage.objects.filter(key__startswith=f"{c.prefix}:b:")[:3]:
        MessageEvent.objects.create(message=message, kind=EventKind.CLICK, at=sent_at)
    later = MONDAY_NOON + timedelta(hours=4)
    assert services.run_due_campaigns(now=later) == 1
    c.refresh_from_db()
    assert (c.status, c.ab_winner, c.decided_at) == ("sent", "b", later)
    rest = keys(c.prefix)
    assert rest == people - a - b - control
    assert held(c.prefix) == control  # the rest's send added no one to the control group
    assert all(
        s.startswith("Frisch geröstet für")
        for s in OutboundMessage.objects.filter(
            key__startswith=f"{c.prefix}:customer:"
        ).values_list("subject", flat=True)
    )
    assert mails().count() == len(people) - len(control)


def test_a_tie_keeps_variant_a_and_a_template_variant_sends_the_other_template():
    for _ in range(40):
        consenting_customer()
    other = newsletter(name="Sommer")
    other = services.save_mail_template(
        mail_template=other, name="Sommer", kind="marketing", subject="Sommer ist da",
        blocks=[{"type": "text", "text": "Eiskaffee!"}],
    )  # fmt: skip
    c = ab_campaign(ab_variant=AbVariant.TEMPLATE, template_b=other, subject_b="")
    send_now(c)
    b_subjects = set(
        OutboundMessage.objects.filter(key__startswith=f"{c.prefix}:b:").values_list(
            "subject", flat=True
        )
    )
    assert b_subjects == {"Sommer ist da"}
    services.run_due_campaigns(now=MONDAY_NOON + timedelta(hours=5))
    c.refresh_from_db()
    assert c.ab_winner == "a"
    assert "Sommer ist da" not in set(
        OutboundMessage.objects.filter(key__startswith=f"{c.prefix}:customer:").values_list(
            "subject", flat=True
        )
    )


def test_the_split_is_the_same_on_every_run():
    c = ab_campaign()
    ids = list(range(1, 2001))
    first, second = services.split_audience(c, ids), services.split_audience(c, ids)
    assert first == second
    assert sorted(sum(first.values(), [])) == ids
    assert 300 <= len(first["control"]) <= 500  # about 20 %
    sampled = len(first["a"]) + len(first["b"])
    assert 0.3 * 1600 <= sampled <= 0.5 * 1600  # about 40 % of the others


# -- Cancelling ------------------------------------------------------------------------------


def test_a_scheduled_campaign_can_be_cancelled_and_is_never_sent():
    consenting_customer()
    c = campaign(send_date=date(2026, 3, 3), send_time=time(10))
    services.schedule_campaign(c, now=MONDAY_NOON)
    services.cancel_campaign(c)
    assert services.run_due_campaigns(now=MONDAY_NOON + timedelta(days=2)) == 0
    c.refresh_from_db()
    assert c.status == CampaignStatus.CANCELLED and mails().count() == 0


def test_a_sent_campaign_cannot_be_cancelled_or_changed():
    consenting_customer()
    c = campaign()
    send_now(c)
    with pytest.raises(services.CampaignError):
        services.cancel_campaign(c)
    with pytest.raises(services.CampaignError):
        services.save_campaign(campaign=c, data=campaign_input(), now=MONDAY_NOON)
    c.refresh_from_db()
    assert c.status == CampaignStatus.SENT


def test_a_campaign_being_sent_cannot_be_cancelled():
    c = campaign()
    Campaign.objects.filter(pk=c.pk).update(
        status=CampaignStatus.TESTING, lease_until=timezone.now() + timedelta(minutes=5)
    )
    with pytest.raises(services.CampaignError):
        services.cancel_campaign(c)


def test_a_deleted_segment_cancels_the_due_campaign():
    consenting_customer()
    c = campaign()
    services.schedule_campaign(c, now=MONDAY_NOON)
    c.segment.delete()
    assert services.run_campaign(c.pk, now=MONDAY_NOON) == CampaignStatus.CANCELLED
    assert mails().count() == 0
    assert selectors.due_campaign_ids(now=MONDAY_NOON) == []


def test_the_unsubscribe_links_built_around_the_token_are_what_reverse_gives():
    from django.urls import reverse

    from treu.messaging.consent_mail import unsubscribe_urls
    from treu.messaging.consent_tokens import unsubscribe_token

    for customer_id in (1, 42, 987_654_321):
        token = unsubscribe_token(customer_id, "email")
        urls = unsubscribe_urls(customer_id)
        assert urls["page"].endswith(reverse("messaging:unsubscribe", args=[token]))
        assert urls["one_click"].endswith(reverse("messaging:unsubscribe_one_click", args=[token]))
        assert urls["preferences"].endswith(reverse("messaging:preferences", args=[token]))


def test_sent_campaigns_with_a_control_group_are_offered_to_the_experiment_log():
    consenting_customer()
    measured, without = campaign(name="Mit Kontrollgruppe"), campaign(control_percent=0)
    send_now(measured)
    send_now(without)
    names = dict(selectors.measurable_sends())
    assert names[measured.prefix] == "Kampagne: Mit Kontrollgruppe"
    assert without.prefix not in names


def test_the_results_sum_the_variants_and_the_rest_and_measure_against_one_control_group():
    from treu.commerce.models import Order
    from treu.commerce.tests.factories import ShopFactory

    people = [consenting_customer() for _ in range(60)]
    c = ab_campaign()
    send_now(c)
    sent_at = MONDAY_NOON + timedelta(minutes=5)
    mails().update(status=MessageStatus.SENT, sent_at=sent_at)
    services.run_due_campaigns(now=MONDAY_NOON + timedelta(hours=4))
    mails().filter(status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENT, sent_at=MONDAY_NOON + timedelta(hours=4, minutes=5)
    )
    a_row = mails().filter(key__startswith=f"{c.prefix}:a:").first()
    shop = ShopFactory()
    Order.objects.create(
        shop=shop, external_id="O-1", number="#1", customer_id=a_row.customer_id,
        status="paid", subtotal_cents=4200, total_cents=4200, tax_cents=0, net_cents=4200,
        placed_at=sent_at + timedelta(days=1),
    )  # fmt: skip
    MessageEvent.objects.create(message=a_row, kind=EventKind.CLICK, at=sent_at)
    c.refresh_from_db()
    results = selectors.campaign_results(c, now=MONDAY_NOON + timedelta(days=30))
    a, b = results.variants[0].figures, results.variants[1].figures
    assert results.total.sent == a.sent + b.sent + results.rest.sent == 60 - results.held_out
    assert results.total.outcome.people == results.total.sent  # each recipient once
    assert (a.orders, a.revenue_cents, a.clicked, results.total.orders) == (1, 4200, 1, 1)
    assert results.variants[0].figures.outcome.converted == 1
    assert results.control.people == results.held_out == len(held(c.prefix))
    assert results.conversion.verdict == "too_little_data"
    assert results.audience == len(people)
