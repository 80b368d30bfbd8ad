from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from treu.core import events, privacy
from treu.webhooks import selectors, services, transport
from treu.webhooks.models import PING, Attempt, Delivery, Endpoint
from treu.webhooks.subscribers import deliver_to_webhooks

pytestmark = pytest.mark.django_db


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check, exactly as docs/webhooks.md shows it."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    signed = f"{timestamp}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def _publish(capture, kind="customer.created", customer=None, payload=None):
    with capture(execute=True):
        return events.publish(kind, customer=customer, payload=payload or {"source_channel": "x"})


def _failing_delivery(endpoint, receiver, capture, anna) -> Delivery:
    receiver.default = 500
    event = _publish(capture, customer=anna)
    return Delivery.objects.get(endpoint=endpoint, event=event)


# --- sending ---------------------------------------------------------------------------------


def test_it_signs_each_delivery_so_the_receiver_can_verify_it(
    endpoint, receiver, anna, django_capture_on_commit_callbacks
):
    _publish(django_capture_on_commit_callbacks, customer=anna)

    [request] = receiver.requests
    assert verify(endpoint.secret, request.headers["X-Treu-Signature"], request.body)
    assert not verify("whsec_wrong", request.headers["X-Treu-Signature"], request.body)
    assert not verify(endpoint.secret, request.headers["X-Treu-Signature"], request.body + b" ")


def test_it_refuses_a_replayed_signature_in_the_documented_check(endpoint):
    body = b'{"id":1}'
    old = int(time.time()) - 3600
    assert not verify(endpoint.secret, services.sign(endpoint.secret, old, body), body)


def test_it_sends_the_documented_headers_and_payload(
    endpoint, receiver, anna, django_capture_on_commit_callbacks
):
    event = _publish(django_capture_on_commit_callbacks, customer=anna, payload={"a": "ü"})

    [request] = receiver.requests
    delivery = Delivery.objects.get()
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "treu-webhooks/1"
    assert request.headers["X-Treu-Event"] == "customer.created"
    assert request.headers["X-Treu-Delivery"] == str(delivery.pk)
    timestamp = int(request.headers["X-Treu-Timestamp"])
    assert abs(timestamp - time.time()) < 60
    assert request.headers["X-Treu-Signature"].startswith(f"t={timestamp},v1=")
    assert json.loads(request.body) == {
        "id": event.pk,
        "type": "customer.created",
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "customer": {"number": anna.number},
        "data": {"a": "ü"},
    }
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    attempt = Attempt.objects.get()
    assert (attempt.succeeded, attempt.status_code, attempt.number) == (True, 200, 1)


def test_it_delivers_events_without_a_customer_with_customer_null(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    _publish(django_capture_on_commit_callbacks, kind="order.ingested", customer=None)
    assert json.loads(receiver.requests[0].body)["customer"] is None


def test_it_sends_a_ping_on_request(endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_send_test(endpoint=endpoint)

    [request] = receiver.requests
    assert request.headers["X-Treu-Event"] == PING
    assert json.loads(request.body)["type"] == PING
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED


# --- what gets a delivery --------------------------------------------------------------------


def test_it_creates_no_delivery_when_no_endpoint_wants_the_kind(
    endpoint, receiver, anna, django_assert_num_queries
):
    event = events.publish("customer.updated", customer=anna, payload={"fields": ["phone"]})

    with django_assert_num_queries(1):  # the wanted kinds, once per process and few seconds
        assert services.deliveries_for_event(event=event) == []
    with django_assert_num_queries(0):  # then from memory
        assert services.deliveries_for_event(event=event) == []
    assert not Delivery.objects.exists()
    assert receiver.requests == []


def test_it_creates_no_delivery_at_all_without_endpoints(anna, django_assert_num_queries):
    event = events.publish("customer.updated", customer=anna, payload={"fields": ["phone"]})
    selectors.wanted_kinds()
    with django_assert_num_queries(0):
        deliver_to_webhooks(event)
    assert not Delivery.objects.exists()


def test_it_delivers_an_event_once_even_when_the_subscriber_runs_twice(
    endpoint, receiver, anna, django_capture_on_commit_callbacks
):
    event = events.publish("customer.created", customer=anna, payload={})
    with django_capture_on_commit_callbacks(execute=True):
        deliver_to_webhooks(event)
        deliver_to_webhooks(event)
    deliver_to_webhooks(event)

    assert Delivery.objects.filter(event=event).count() == 1
    assert len(receiver.requests) == 1


def test_the_database_refuses_a_second_delivery_of_an_event(endpoint, anna):
    from django.db import IntegrityError, transaction

    event = events.publish("customer.created", customer=anna, payload={})
    Delivery.objects.create(endpoint=endpoint, event=event, kind=event.kind)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(endpoint=endpoint, event=event, kind=event.kind)


def test_it_notices_a_new_endpoint_at_once_in_the_same_process(
    receiver, anna, django_capture_on_commit_callbacks
):
    assert selectors.wanted_kinds() == frozenset()
    services.endpoint_create(url=receiver.url, kinds=["customer.merged"])
    _publish(django_capture_on_commit_callbacks, kind="customer.merged", customer=anna)
    assert len(receiver.requests) == 1


def test_it_sends_nothing_to_an_inactive_endpoint(
    endpoint, receiver, anna, django_capture_on_commit_callbacks
):
    services.endpoint_update(
        endpoint=endpoint, url=endpoint.url, kinds=endpoint.kinds, active=False
    )
    _publish(django_capture_on_commit_callbacks, customer=anna)
    assert not Delivery.objects.exists()
    assert receiver.requests == []


def test_it_offers_kinds_registered_later_and_hides_internal_ones():
    events.register_kind("points.changed", label="Points changed")
    events.register_kind("test.internal", label="Internal", outbound=False)
    try:
        offered = {k.name for k in selectors.outbound_kinds()}
        assert {"customer.created", "order.ingested", "points.changed"} <= offered
        assert "test.internal" not in offered
    finally:
        events._kinds.pop("points.changed")
        events._kinds.pop("test.internal")


# --- retries and claiming --------------------------------------------------------------------


def test_the_backoff_waits_longer_after_each_failure_then_gives_up():
    waits = [services.retry_delay(n) for n in range(1, 7)]
    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
        None,
    ]


def test_it_retries_with_backoff_and_gives_up_after_the_last_attempt(
    endpoint, receiver, anna, django_capture_on_commit_callbacks
):
    delivery = _failing_delivery(endpoint, receiver, django_capture_on_commit_callbacks, anna)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 1)
    now = delivery.last_attempt_at

    for attempt, wait in enumerate(services.BACKOFF, start=2):
        assert delivery.next_attempt_at == now + wait
        # Not due a second early: nothing is sent.
        early = services.delivery_send(
            delivery_id=delivery.pk, now=now + wait - timedelta(seconds=1)
        )
        assert early is None
        now += wait
        result = services.delivery_send(delivery_id=delivery.pk, now=now)
        delivery = result.delivery
        assert delivery.attempts == attempt

    assert delivery.status == Delivery.Status.GAVE_UP
    assert delivery.next_attempt_at is None
    assert delivery.last_status_code == 500
    assert len(receiver.requests) == 6
    assert Attempt.objects.filter(delivery=delivery).count() == 6
    assert services.delivery_send(delivery_id=delivery.pk, now=now + timedelta(days=1)) is None


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_runs_out(endpoint, anna):
    event = events.publish("customer.created", customer=anna, payload={})
    now = timezone.now()
    delivery = Delivery.objects.create(
        endpoint=endpoint, event=event, kind=event.kind, next_attempt_at=now
    )

    assert services.delivery_claim(delivery_id=delivery.pk, now=now) is True
    assert services.delivery_claim(delivery_id=delivery.pk, now=now) is False
    assert services.delivery_send(delivery_id=delivery.pk, now=now) is None
    # The worker that claimed it died: after the lease, it can be taken again.
    later = now + services.CLAIM_LEASE
    assert services.delivery_claim(delivery_id=delivery.pk, now=later) is True
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_the_picker_finds_deliveries_whose_task_was_lost(endpoint, anna):
    event = events.publish("customer.created", customer=anna, payload={})
    now = timezone.now()
    lost = Delivery.objects.create(
        endpoint=endpoint, event=event, kind=event.kind, next_attempt_at=now - timedelta(minutes=5)
    )
    Delivery.objects.create(endpoint=endpoint, kind=PING, next_attempt_at=now)  # just queued
    Delivery.objects.create(
        endpoint=endpoint, kind=PING, status=Delivery.Status.SUCCEEDED, next_attempt_at=None
    )

    assert selectors.due_delivery_ids(now=now, grace=timedelta(minutes=2)) == [lost.pk]


def test_the_picker_sends_overdue_deliveries(endpoint, receiver, anna):
    from treu.webhooks.tasks import send_overdue_deliveries

    event = events.publish("customer.created", customer=anna, payload={})
    Delivery.objects.create(
        endpoint=endpoint,
        event=event,
        kind=event.kind,
        payload={"id": event.pk},
        next_attempt_at=timezone.now() - timedelta(minutes=10),
    )
    send_overdue_deliveries.call_local()
    assert len(receiver.requests) == 1
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED


def test_it_counts_a_timeout_as_a_failure(
    endpoint, receiver, anna, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(transport, "TIMEOUT_SECONDS", 0.3)
    receiver.replies = [("sleep", 1.0)]
    _publish(django_capture_on_commit_callbacks, customer=anna)

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_status_code is None
    assert "Timeout" in delivery.last_error


def test_it_does_not_follow_redirects(endpoint, receiver, anna, django_capture_on_commit_callbacks):
    receiver.replies = [("redirect", receiver.url + "/elsewhere")]
    _publish(django_capture_on_commit_callbacks, customer=anna)

    assert [r.path for r in receiver.requests] == ["/hook"]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (Delivery.Status.FAILED, 302)


def test_it_records_a_refused_connection(anna, django_capture_on_commit_callbacks):
    services.endpoint_create(url="http://127.0.0.1:9/nobody", kinds=["customer.created"])
    _publish(django_capture_on_commit_callbacks, customer=anna)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error


def test_the_transport_refuses_other_schemes():
    response = transport.post("file:///etc/passwd", body=b"{}", headers={})
    assert not response.ok
    assert "Refused" in response.error


def test_redelivering_sends_again_with_a_fresh_round_of_retries(
    endpoint, receiver, anna, django_capture_on_commit_callbacks
):
    delivery = _failing_delivery(endpoint, receiver, django_capture_on_commit_callbacks, anna)
    receiver.default = 200
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_redeliver(delivery=delivery)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert delivery.attempts == 1
    assert len(receiver.requests) == 2
    assert Attempt.objects.filter(delivery=delivery).count() == 2


# --- failing endpoints -----------------------------------------------------------------------


def test_it_switches_a_failing_endpoint_off_and_tells_the_owners(
    endpoint, receiver, owner, marketer, anna, settings, django_capture_on_commit_callbacks
):
    settings.TREU_WEBHOOK_DISABLE_AFTER = 3
    receiver.default = 500
    for _ in range(3):
        _publish(django_capture_on_commit_callbacks, customer=anna)

    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert endpoint.auto_disabled
    assert endpoint.consecutive_failures == 3
    assert list(selectors.auto_disabled_endpoints()) == [endpoint]
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert endpoint.url in message.subject
    assert f"/webhooks/{endpoint.pk}/" in message.body

    # Switched off: new events wait for nobody, the queued retries are not sent.
    _publish(django_capture_on_commit_callbacks, customer=anna)
    assert Delivery.objects.count() == 3
    due = Delivery.objects.first().next_attempt_at
    assert services.delivery_send(delivery_id=Delivery.objects.first().pk, now=due) is None
    assert len(receiver.requests) == 3
    assert len(mail.outbox) == 1


def test_a_success_resets_the_failure_count(
    endpoint, receiver, anna, django_capture_on_commit_callbacks
):
    receiver.replies = [500, 500, 200]
    for _ in range(3):
        _publish(django_capture_on_commit_callbacks, customer=anna)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0
    assert endpoint.last_delivery_ok is True


def test_switching_on_again_resets_the_count_and_sends_what_waited(
    endpoint, receiver, owner, anna, settings, django_capture_on_commit_callbacks
):
    settings.TREU_WEBHOOK_DISABLE_AFTER = 2
    receiver.default = 500
    _publish(django_capture_on_commit_callbacks, customer=anna)
    _publish(django_capture_on_commit_callbacks, customer=anna)
    endpoint.refresh_from_db()
    assert not endpoint.active

    receiver.default = 200
    with django_capture_on_commit_callbacks(execute=True):
        resumed = services.endpoint_enable(endpoint=endpoint)

    endpoint.refresh_from_db()
    assert resumed == 2
    assert (endpoint.active, endpoint.disabled_at, endpoint.consecutive_failures) == (True, None, 0)
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    assert len(receiver.requests) == 4


# --- endpoints -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/treu",
        "http://localhost:8080/hook",
        "http://127.0.0.1/hook",
        "http://[::1]:9000/hook",
    ],
)
def test_it_accepts_https_and_local_http(url):
    assert services.validate_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://shop.example/treu",  # plain http leaves the machine
        "file:///etc/passwd",
        "ftp://shop.example/x",
        "javascript:alert(1)",
        "https://",
        "shop.example/treu",
        "https://user:pw@shop.example/",
        "",
    ],
)
def test_it_refuses_unsafe_or_broken_urls_in_production(url):
    with pytest.raises(services.WebhookError) as refused:
        services.validate_url(url)
    assert "url" in refused.value.message_dict


def test_it_allows_plain_http_anywhere_only_when_debugging(settings):
    settings.DEBUG = True
    assert services.validate_url("http://shop.example/treu") == "http://shop.example/treu"
    with pytest.raises(services.WebhookError):
        services.validate_url("file:///etc/passwd")


def test_it_refuses_unknown_or_missing_event_kinds(receiver):
    with pytest.raises(services.WebhookError) as refused:
        services.endpoint_create(url=receiver.url, kinds=["customer.note_zapped"])
    assert "kinds" in refused.value.message_dict
    with pytest.raises(services.WebhookError):
        services.endpoint_create(url=receiver.url, kinds=[])
    assert not Endpoint.objects.exists()


def test_it_creates_an_endpoint_with_a_secret_and_rotates_it(endpoint):
    assert endpoint.secret.startswith("whsec_")
    assert len(endpoint.secret) > 30
    old = endpoint.secret
    new = services.endpoint_rotate_secret(endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.secret == new != old


def test_updating_kinds_replaces_the_subscriptions(endpoint):
    services.endpoint_update(
        endpoint=endpoint, url=endpoint.url, kinds=["order.refunded", "order.ingested"]
    )
    endpoint.refresh_from_db()
    assert endpoint.kinds == ["order.ingested", "order.refunded"]
    assert selectors.endpoint_ids_wanting("customer.created") == []
    assert selectors.endpoint_ids_wanting("order.refunded") == [endpoint.pk]


# --- privacy ---------------------------------------------------------------------------------


def test_erasing_a_customer_deletes_their_deliveries(
    endpoint, receiver, anna, ben, django_capture_on_commit_callbacks
):
    _publish(django_capture_on_commit_callbacks, customer=anna)
    _publish(django_capture_on_commit_callbacks, customer=ben)

    exported = privacy.export_customer(anna)
    assert len(exported["webhooks.Delivery"]) == 1
    privacy.erase_customer(anna)

    assert list(Delivery.objects.values_list("event__customer", flat=True)) == [ben.pk]
    assert Attempt.objects.count() == 1


def test_old_delivery_logs_are_purged(endpoint, anna):
    now = timezone.now()
    old = Delivery.objects.create(endpoint=endpoint, kind=PING, created_at=now - timedelta(days=31))
    Attempt.objects.create(delivery=old, number=1, attempted_at=old.created_at)
    recent = Delivery.objects.create(
        endpoint=endpoint, kind=PING, created_at=now - timedelta(days=29)
    )

    assert services.deliveries_purge(now=now) == 2  # the delivery and its attempt
    assert list(Delivery.objects.all()) == [recent]
