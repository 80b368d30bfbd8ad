from __future__ import annotations

import pytest
from django.db import transaction

from treu.core import events
from treu.core.models import DomainEvent

pytestmark = pytest.mark.django_db

KIND = "test.happened"
events.register_kind(KIND, label="Something happened", on_timeline=False)

received: list[tuple[str, int]] = []


@events.subscribe(KIND)
def _record(event):
    received.append(("inline", event.pk))


@events.subscribe(KIND, in_worker=True)
def _record_in_worker(event):
    received.append(("worker", event.pk))


@events.subscribe_batch(KIND)
def _record_batch(batch):
    received.append(("batch", [event.pk for event in batch]))


@pytest.fixture(autouse=True)
def _clear():
    received.clear()


def test_it_appends_the_event_row_in_the_callers_transaction(anna):
    with transaction.atomic():
        event = events.publish(KIND, customer=anna, payload={"x": 1}, source="test")
        assert DomainEvent.objects.filter(pk=event.pk).exists()
    assert event.customer == anna and event.payload == {"x": 1}


def test_subscribers_run_only_after_commit(django_capture_on_commit_callbacks, anna):
    with django_capture_on_commit_callbacks(execute=True):
        event = events.publish(KIND, customer=anna)
        assert received == []
    assert ("inline", event.pk) in received
    assert ("worker", event.pk) in received  # huey runs inline in tests


def test_nothing_is_published_when_the_transaction_rolls_back(
    django_capture_on_commit_callbacks, anna
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        events.publish(KIND, customer=anna)
        raise RuntimeError("boom")
    assert received == []
    assert not DomainEvent.objects.filter(kind=KIND).exists()


def test_a_failing_subscriber_does_not_stop_the_others(django_capture_on_commit_callbacks, anna):
    kind = "test.fragile"
    events.register_kind(kind, label="fragile", on_timeline=False)
    calls = []

    @events.subscribe(kind)
    def _broken(event):
        raise ValueError("subscriber bug")

    @events.subscribe(kind)
    def _fine(event):
        calls.append(event.pk)

    with django_capture_on_commit_callbacks(execute=True):
        event = events.publish(kind, customer=anna)
    assert calls == [event.pk]


def test_it_refuses_unknown_kinds_and_large_payloads(anna):
    with pytest.raises(events.UnknownEventKind):
        events.publish("never.registered", customer=anna)
    with pytest.raises(ValueError, match="larger"):
        events.publish(KIND, customer=anna, payload={"blob": "x" * 10_000})


def test_history_is_recorded_without_notifying_anyone(django_capture_on_commit_callbacks, anna):
    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        written = events.record_history(
            DomainEvent(kind=KIND, customer=anna, occurred_at=timezone.now()) for _ in range(5)
        )
    assert written == 5
    assert received == []


def test_an_unregistered_kind_still_reads_on_the_timeline(anna):
    from django.utils import timezone

    event = DomainEvent(kind="gone.app", customer=anna, occurred_at=timezone.now())
    assert events.describe(event).title == "gone.app"


def test_publish_many_writes_every_event_and_dispatches_each_after_commit(
    django_capture_on_commit_callbacks, anna
):
    with django_capture_on_commit_callbacks(execute=True):
        written = events.publish_many(
            [
                DomainEvent(kind=KIND, customer=anna, payload={"n": 1}, source="batch"),
                DomainEvent(kind=KIND, customer_id=anna.pk),
            ]
        )
        assert received == []
    assert all(event.pk for event in written) and written[1].occurred_at is not None
    assert [pk for where, pk in received if where == "inline"] == [e.pk for e in written]
    assert DomainEvent.objects.filter(kind=KIND, customer=anna).count() == 2


def test_batch_subscribers_get_a_published_batch_in_one_call_after_commit(
    django_capture_on_commit_callbacks, anna
):
    with django_capture_on_commit_callbacks(execute=True):
        written = events.publish_many(
            [DomainEvent(kind=KIND, customer=anna), DomainEvent(kind=KIND, customer=anna)]
        )
        assert received == []
    assert [pks for where, pks in received if where == "batch"] == [[e.pk for e in written]]


def test_batch_subscribers_get_only_their_kind_from_a_mixed_batch(
    django_capture_on_commit_callbacks, anna
):
    other = "test.other_kind"
    events.register_kind(other, label="Other", on_timeline=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        written = events.publish_many(
            [DomainEvent(kind=KIND), DomainEvent(kind=other), DomainEvent(kind=KIND)]
        )
    assert len(callbacks) == 3  # still one callback per event
    assert [pks for where, pks in received if where == "batch"] == [[written[0].pk, written[2].pk]]
    assert [pk for where, pk in received if where == "inline"] == [written[0].pk, written[2].pk]


def test_batch_subscribers_get_a_single_event_as_a_list_of_one(
    django_capture_on_commit_callbacks, anna
):
    with django_capture_on_commit_callbacks(execute=True):
        event = events.publish(KIND, customer=anna)
    events.dispatch(event)  # delivered again: again a list of one
    assert [pks for where, pks in received if where == "batch"] == [[event.pk], [event.pk]]


def test_a_failing_batch_subscriber_does_not_stop_the_others(
    django_capture_on_commit_callbacks, anna, caplog
):
    kind = "test.batch_fails"
    events.register_kind(kind, label="Batch fails", on_timeline=False)
    seen = []

    @events.subscribe_batch(kind)
    def broken(batch):
        raise RuntimeError("boom")

    @events.subscribe_batch(kind)
    def works(batch):
        seen.append(len(batch))

    with django_capture_on_commit_callbacks(execute=True):
        events.publish_many([DomainEvent(kind=kind, customer=anna)])
    assert seen == [1]
    assert "Batch subscriber" in caplog.text and "broken" in caplog.text


def test_publish_many_checks_every_event_before_writing_any(anna):
    with pytest.raises(events.UnknownEventKind):
        events.publish_many([DomainEvent(kind=KIND), DomainEvent(kind="never.registered")])
    with pytest.raises(ValueError, match="payload"):
        events.publish_many([DomainEvent(kind=KIND, payload={"x": "y" * 9000})])
    assert not DomainEvent.objects.filter(kind=KIND).exists()
