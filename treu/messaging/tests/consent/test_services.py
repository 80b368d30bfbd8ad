"""Sign-up with double opt-in, confirmation, withdrawal, preferences, §7(3) UWG, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.core.models import DomainEvent
from treu.customers.models import Customer
from treu.messaging import selectors, services
from treu.messaging.consent_tokens import hash_token
from treu.messaging.models import (
    AppendOnlyError,
    Consent,
    ConsentRecord,
    ConsentState,
    ConsentText,
    LegalBasis,
)
from treu.messaging.tests.consent.conftest import deliver, sign_up, token_of, wording

pytestmark = pytest.mark.django_db


def actions(customer) -> list[str]:
    return list(
        ConsentRecord.objects.filter(customer=customer)
        .order_by("occurred_at", "id")
        .values_list("action", flat=True)
    )


# -- Sign-up -----------------------------------------------------------------------------------


def test_a_sign_up_is_pending_and_sends_one_confirmation_mail(anna, mailoutbox):
    result = sign_up(anna)
    consent = result.consent
    assert result.status == services.SignupStatus.MAIL_SENT
    assert consent.state == ConsentState.PENDING
    assert consent.legal_basis == LegalBasis.CONSENT
    assert consent.address == anna.email
    assert actions(anna) == ["signup", "mail_sent"]
    [mail] = mailoutbox
    assert mail.to == [anna.email]
    assert mail.subject == "Bitte bestätigen Sie Ihre Newsletter-Anmeldung"
    assert token_of(mail) == result.token
    assert "Hallo Anna," in mail.body
    assert wording().wording in mail.body
    signup = ConsentRecord.objects.get(customer=anna, action="signup")
    assert signup.ip == "198.51.100.7"
    assert signup.wording == wording()
    assert signup.source == "page"


def test_only_the_hash_of_the_token_is_stored(anna, mailoutbox):
    token = sign_up(anna).token
    consent = Consent.objects.get(customer=anna)
    assert consent.token_hash == hash_token(token) != token
    sent = ConsentRecord.objects.get(action="mail_sent")
    assert sent.token_hash == hash_token(token)
    stored = [str(v) for v in Consent.objects.values_list(flat=True)]
    assert token not in " ".join(stored)


def test_an_unknown_address_becomes_a_new_customer(mailoutbox):
    result = sign_up("  Neu.Kundin@Example.de ", first_name="Nele")
    customer = result.consent.customer
    assert customer.email == "neu.kundin@example.de"
    assert customer.first_name == "Nele"
    assert DomainEvent.objects.filter(kind="customer.created", customer=customer).exists()


def test_a_known_address_signs_up_that_customer_without_changing_their_details(anna, mailoutbox):
    result = sign_up("ANNA.mueller@example.de", first_name="Mallory")
    anna.refresh_from_db()
    assert result.consent.customer == anna
    assert anna.first_name == "Anna"
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("email", ["", "anna", "anna@", "anna@example", "a b@example.de"])
def test_it_refuses_an_invalid_address_and_writes_nothing(email, mailoutbox):
    with pytest.raises(services.ConsentError) as refused:
        sign_up(email)
    assert refused.value.message_dict["email"] == [
        "Bitte geben Sie eine gültige E-Mail-Adresse an, z. B. name@example.de."
    ]
    assert not Customer.objects.exists()
    assert not Consent.objects.exists()
    assert not mailoutbox


def test_it_records_the_text_version_that_was_shown(anna, mailoutbox):
    first = wording()
    newer = services.publish_consent_text(
        channel="email", basis="consent", wording="Ja, schickt mir euren Newsletter. " * 2
    )
    assert newer.version == first.version + 1
    consent = sign_up(anna, text_version=first.version).consent
    assert consent.wording == first
    assert ConsentRecord.objects.get(action="signup").wording == first
    assert sign_up("ben@example.de").consent.wording == newer  # none given: the current one


def test_it_refuses_a_text_version_that_does_not_exist(anna, mailoutbox):
    with pytest.raises(services.ConsentError, match="Seite neu"):
        sign_up(anna, text_version=99)
    assert not Consent.objects.exists()


def test_a_mail_server_that_is_down_keeps_the_sign_up_and_the_mail_waits(monkeypatch, mailoutbox):
    from treu.messaging.models import MessageStatus, OutboundMessage

    def broken(self, *args, **kwargs):
        raise OSError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
        result = sign_up("nele@example.de")
    assert result.consent.state == ConsentState.PENDING
    waiting = OutboundMessage.objects.get()
    assert (waiting.status, waiting.customer_id) == (
        MessageStatus.QUEUED,
        result.consent.customer_id,
    )
    assert "mail server down" in waiting.last_error and not mailoutbox
    assert deliver() == 1  # the server is back: the worker's next run sends it
    assert token_of(mailoutbox[0]) == result.token


def test_a_second_sign_up_within_minutes_sends_no_second_mail(anna, mailoutbox):
    first = sign_up(anna)
    again = sign_up(anna, now=timezone.now() + timedelta(minutes=2))
    assert again.status == services.SignupStatus.MAIL_RECENTLY_SENT
    assert len(mailoutbox) == 1
    assert actions(anna) == ["signup", "mail_sent"]
    assert again.consent.token_hash == hash_token(first.token)


def test_a_later_sign_up_sends_a_new_link_and_the_old_one_stops_working(anna, mailoutbox):
    first = sign_up(anna)
    second = sign_up(anna, now=timezone.now() + timedelta(minutes=10))
    assert second.status == services.SignupStatus.MAIL_SENT
    assert len(mailoutbox) == 2
    with pytest.raises(services.ConsentLinkError) as refused:
        services.confirm_consent(token=first.token)
    assert refused.value.problem == "expired"
    services.confirm_consent(token=second.token, now=timezone.now() + timedelta(minutes=11))


def test_signing_up_again_when_confirmed_changes_nothing(anna_active, anna, mailoutbox):
    before = actions(anna)
    result = sign_up(anna)
    assert result.status == services.SignupStatus.ALREADY_ACTIVE
    assert actions(anna) == before
    assert len(mailoutbox) == 1


def test_the_public_forms_take_a_limited_number_of_sign_ups_per_ip(settings, mailoutbox):
    settings.TREU_CONSENT_SIGNUPS_PER_IP_HOUR = 2
    sign_up("a@example.de", source="embed")
    sign_up("b@example.de", source="page")
    with pytest.raises(services.ConsentError, match="später"):
        sign_up("c@example.de", source="embed")
    sign_up("c@example.de", source="cashier")  # the till is one address for many people
    sign_up("d@example.de", source="page", ip="198.51.100.8")
    assert Consent.objects.count() == 4


# -- Confirmation ------------------------------------------------------------------------------


def test_confirming_activates_and_records_time_and_ip(anna, mailoutbox):
    token = sign_up(anna).token
    consent = services.confirm_consent(token=token, ip="203.0.113.9")
    assert consent.state == ConsentState.ACTIVE
    assert consent.token_hash == ""
    confirmed = ConsentRecord.objects.get(action="confirmed")
    assert confirmed.ip == "203.0.113.9"
    assert confirmed.token_hash == hash_token(token)
    assert confirmed.state == ConsentState.ACTIVE
    event = DomainEvent.objects.get(kind="consent.confirmed")
    assert event.customer == anna
    assert event.payload == {
        "channel": "email",
        "purpose": "newsletter",
        "consent_id": consent.pk,
        "legal_basis": "consent",
        "source": "page",
    }


def _unchanged(customer):
    consent = Consent.objects.get(customer=customer)
    return consent.state, consent.token_hash, actions(customer)


def test_a_forged_link_changes_nothing(anna, mailoutbox):
    token = sign_up(anna).token
    before = _unchanged(anna)
    for forged in ("x", token[:-1] + ("A" if token[-1] != "A" else "B"), ""):
        with pytest.raises(services.ConsentLinkError) as refused:
            services.confirm_consent(token=forged)
        assert refused.value.problem == "forged"
        assert "nicht gültig" in refused.value.messages[0]
    assert _unchanged(anna) == before


def test_an_expired_link_changes_nothing(anna, mailoutbox, settings):
    settings.TREU_CONSENT_PENDING_DAYS = 3
    token = sign_up(anna).token
    before = _unchanged(anna)
    with pytest.raises(services.ConsentLinkError) as refused:
        services.confirm_consent(token=token, now=timezone.now() + timedelta(days=3, minutes=1))
    assert refused.value.problem == "expired"
    assert "abgelaufen" in refused.value.messages[0]
    assert _unchanged(anna) == before


def test_a_reused_link_says_so_and_changes_nothing(anna, mailoutbox):
    token = sign_up(anna).token
    services.confirm_consent(token=token)
    before = _unchanged(anna)
    with pytest.raises(services.ConsentLinkError) as refused:
        services.confirm_consent(token=token)
    assert refused.value.problem == "used"
    assert "bereits bestätigt" in refused.value.messages[0]
    assert _unchanged(anna) == before
    assert DomainEvent.objects.filter(kind="consent.confirmed").count() == 1


# -- Withdrawal and preferences ----------------------------------------------------------------


def test_withdrawing_stops_marketing_at_once_and_records_how_and_why(anna_active, anna):
    assert selectors.may_send_marketing(anna)
    consent = services.withdraw_consent(
        customer=anna, method="one_click", reason="Zu viele Mails", ip="192.0.2.1"
    )
    assert consent.state == ConsentState.WITHDRAWN
    assert not selectors.may_send_marketing(anna)
    record = ConsentRecord.objects.filter(action="withdrawn").get()
    assert (record.method, record.reason, record.ip) == ("one_click", "Zu viele Mails", "192.0.2.1")
    event = DomainEvent.objects.get(kind="consent.withdrawn")
    assert event.payload["method"] == "one_click"


def test_withdrawing_twice_writes_once(anna_active, anna):
    services.withdraw_consent(customer=anna, method="link")
    services.withdraw_consent(customer=anna, method="one_click")
    assert actions(anna).count("withdrawn") == 1


def test_a_reason_after_the_click_is_its_own_record(anna_active, anna):
    services.withdraw_consent(customer=anna, method="link")
    services.record_withdrawal_reason(customer=anna, reason="Zu viele E-Mails")
    last = ConsentRecord.objects.order_by("-id")[0]
    assert (last.action, last.state, last.method, last.reason) == (
        "withdrawn",
        "withdrawn",
        "link",
        "Zu viele E-Mails",
    )


def test_a_reason_needs_a_withdrawal_first(anna_active, anna):
    with pytest.raises(services.ConsentError):
        services.record_withdrawal_reason(customer=anna, reason="x")


def test_an_objection_without_any_consent_is_recorded(ben):
    consent = services.withdraw_consent(customer=ben, method="backoffice", reason="Telefon")
    assert consent.state == ConsentState.WITHDRAWN
    assert actions(ben) == ["withdrawn"]


def test_preferences_narrow_the_topics(anna_active, anna, topics):
    news, offers, knowledge = topics
    services.update_preferences(customer=anna, topics=[knowledge], frequency="monthly")
    assert selectors.may_send_marketing(anna, topic=knowledge)
    assert not selectors.may_send_marketing(anna, topic=news)
    assert selectors.may_send_marketing(anna)  # a mail for every subscriber
    record = ConsentRecord.objects.order_by("-id")[0]
    assert record.action == "preferences"
    assert record.detail == {"topics": ["Kaffeewissen"], "frequency": "monthly"}


def test_preferences_need_an_active_consent(anna, mailoutbox):
    sign_up(anna)
    with pytest.raises(services.ConsentError, match="nicht angemeldet"):
        services.update_preferences(customer=anna, topics=[], frequency="weekly")


def test_it_refuses_an_unknown_frequency(anna_active, anna):
    with pytest.raises(services.ConsentError):
        services.update_preferences(customer=anna, topics=[], frequency="daily")


# -- The §7(3) UWG basis -----------------------------------------------------------------------


def buyer(customer):
    Customer.objects.filter(pk=customer.pk).update(order_count=1)
    customer.refresh_from_db()
    return customer


def test_a_buyer_may_get_only_similar_products_under_the_existing_customer_basis(ben, topics):
    news, offers, knowledge = topics
    consent = services.record_existing_customer_basis(customer=buyer(ben), source="checkout")
    assert consent.state == ConsentState.ACTIVE
    assert consent.legal_basis == LegalBasis.EXISTING_CUSTOMER
    assert ConsentRecord.objects.get().wording == wording(LegalBasis.EXISTING_CUSTOMER)
    assert selectors.may_send_marketing(ben, topic=offers)
    assert not selectors.may_send_marketing(ben, topic=knowledge)
    assert not selectors.may_send_marketing(ben)


def test_the_existing_customer_basis_needs_a_purchase(ben):
    with pytest.raises(services.ConsentError, match="Kauf"):
        services.record_existing_customer_basis(customer=ben, source="checkout")
    assert not Consent.objects.exists()


def test_an_objection_stands_against_the_existing_customer_basis(ben):
    services.withdraw_consent(customer=buyer(ben), method="link")
    with pytest.raises(services.ConsentError, match="widersprochen"):
        services.record_existing_customer_basis(customer=ben, source="checkout")


def test_a_sign_up_turns_the_existing_customer_basis_into_consent(ben, mailoutbox):
    services.record_existing_customer_basis(customer=buyer(ben), source="checkout")
    services.confirm_consent(token=sign_up(ben).token)
    assert Consent.objects.get(customer=ben).legal_basis == LegalBasis.CONSENT
    assert selectors.may_send_marketing(ben)


# -- Expiry ------------------------------------------------------------------------------------


def test_unconfirmed_sign_ups_expire_after_the_configured_days(anna, ben, mailoutbox, settings):
    settings.TREU_CONSENT_PENDING_DAYS = 30
    now = timezone.now()
    old = sign_up(anna, now=now - timedelta(days=31))
    sign_up(ben, now=now - timedelta(days=29))
    assert services.purge_unconfirmed(now=now) == 1
    assert Consent.objects.get(customer=anna).state == ConsentState.EXPIRED
    assert Consent.objects.get(customer=ben).state == ConsentState.PENDING
    assert actions(anna) == ["signup", "mail_sent", "expired"]
    with pytest.raises(services.ConsentLinkError) as refused:
        services.confirm_consent(token=old.token, now=now)
    assert refused.value.problem == "expired"
    assert services.purge_unconfirmed(now=now) == 0  # nothing twice


def test_the_purge_period_follows_the_setting(anna, mailoutbox, settings):
    settings.TREU_CONSENT_PENDING_DAYS = 7
    sign_up(anna, now=timezone.now() - timedelta(days=8))
    assert services.purge_unconfirmed() == 1


def test_the_daily_task_purges(anna, mailoutbox, settings):
    from treu.messaging.consent_tasks import purge_unconfirmed_signups

    sign_up(anna, now=timezone.now() - timedelta(days=40))
    purge_unconfirmed_signups.call_local()
    assert Consent.objects.get(customer=anna).state == ConsentState.EXPIRED


def test_an_expired_sign_up_can_sign_up_again(anna, mailoutbox):
    sign_up(anna, now=timezone.now() - timedelta(days=40))
    services.purge_unconfirmed()
    services.confirm_consent(token=sign_up(anna).token)
    assert Consent.objects.get(customer=anna).state == ConsentState.ACTIVE


# -- The history is append-only ----------------------------------------------------------------


def test_a_history_row_can_be_neither_changed_nor_deleted(anna_active):
    record = ConsentRecord.objects.first()
    record.reason = "geändert"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.all().update(reason="x")
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.all().minimise(ip=None)
    assert not ConsentRecord.objects.filter(reason__in=["x", "geändert"]).exists()


def test_a_consent_text_is_never_changed(db):
    text = wording()
    text.wording = "Etwas ganz anderes"
    with pytest.raises(AppendOnlyError):
        text.save()


def test_a_consent_text_version_needs_a_real_change(db):
    with pytest.raises(services.ConsentError):
        services.publish_consent_text(channel="email", basis="consent", wording=wording().wording)
    with pytest.raises(services.ConsentError):
        services.publish_consent_text(channel="email", basis="consent", wording="Ja.")
    assert ConsentText.objects.filter(basis="consent").count() == 1


def test_topic_names_are_unique(topics):
    with pytest.raises(services.ConsentError, match="existiert"):
        services.save_topic(name="angebote")
