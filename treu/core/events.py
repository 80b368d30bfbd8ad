"""Domain events: one way for every app to say what happened.

An app publishes `order.ingested`; whoever cares subscribes. The publisher
never learns who listens, so loyalty, messaging or webhooks can be added
without touching commerce.

- `publish()` appends a DomainEvent row inside the caller's transaction.
- Subscribers run after that transaction commits: in-process by default, or
  in the huey worker with `subscribe(..., in_worker=True)` for slow work.
- `register_kind()` declares a kind once, with how it reads on the customer
  timeline, so the timeline can show entries of apps it has never heard of.
- `publish_many()` does the same for a batch (one INSERT, each event dispatched
  after the commit exactly as `publish()` would).
- `record_history()` bulk-writes events for imported history without
  notifying anyone (nothing should react to a purchase from 2023 today).
- `subscribe_batch()` is for subscribers whose work is cheaper for many events at
  once: they get each `publish_many()` batch of their kind as one list (and a list
  of one for `publish()`), so e.g. loyalty awards 1,000 orders in a few queries.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from treu.core.bulk import from_rows, insert_rows
from treu.core.models import DomainEvent

if TYPE_CHECKING:
    from django.utils.functional import Promise

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 8 * 1024
ALL = "*"


@dataclass(frozen=True)
class TimelineEntry:
    """How one event reads on the customer's timeline."""

    title: str
    detail: str = ""
    url: str = ""
    icon: str = "dot"
    amount_cents: int | None = None


@dataclass(frozen=True)
class EventKind:
    name: str
    label: Promise | str
    describe: Callable[[DomainEvent], TimelineEntry] | None = None
    icon: str = "dot"
    on_timeline: bool = True
    # False for internal kinds (a staff note) that must never leave treu, e.g. by webhook.
    outbound: bool = True


@dataclass(frozen=True)
class Subscriber:
    kind: str
    handler: Callable[[DomainEvent], None]
    in_worker: bool

    @property
    def path(self) -> str:
        return f"{self.handler.__module__}.{self.handler.__qualname__}"


@dataclass(frozen=True)
class BatchSubscriber:
    kind: str
    handler: Callable[[list[DomainEvent]], None]

    @property
    def path(self) -> str:
        return f"{self.handler.__module__}.{self.handler.__qualname__}"


class UnknownEventKind(LookupError):
    pass


_kinds: dict[str, EventKind] = {}
_subscribers: dict[str, list[Subscriber]] = defaultdict(list)
_batch_subscribers: dict[str, list[BatchSubscriber]] = defaultdict(list)


def register_kind(
    name: str,
    *,
    label: Promise | str,
    describe: Callable[[DomainEvent], TimelineEntry] | None = None,
    icon: str = "dot",
    on_timeline: bool = True,
    outbound: bool = True,
) -> EventKind:
    kind = EventKind(
        name=name,
        label=label,
        describe=describe,
        icon=icon,
        on_timeline=on_timeline,
        outbound=outbound,
    )
    _kinds[name] = kind
    return kind


def kind(name: str) -> EventKind:
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownEventKind(f"Event kind {name!r} was never registered.") from None


def kinds() -> dict[str, EventKind]:
    return dict(_kinds)


def subscribe(kind_name: str, *, in_worker: bool = False):
    """Decorator: call `handler(event)` after every committed event of this kind ('*' = all)."""

    def decorator(handler: Callable[[DomainEvent], None]):
        subscriber = Subscriber(kind=kind_name, handler=handler, in_worker=in_worker)
        if all(s.path != subscriber.path for s in _subscribers[kind_name]):
            _subscribers[kind_name].append(subscriber)
        return handler

    return decorator


def subscribe_batch(kind_name: str):
    """Decorator: call `handler(events)` once per committed batch of events of this kind.

    `publish_many()` hands over all its events of the kind in one list, `publish()` and
    `dispatch()` a list of one. In-process only (no '*', no worker); like every
    subscriber it runs after the commit, must be idempotent, and its failure is logged
    without stopping the others.
    """

    def decorator(handler: Callable[[list[DomainEvent]], None]):
        subscriber = BatchSubscriber(kind=kind_name, handler=handler)
        if all(s.path != subscriber.path for s in _batch_subscribers[kind_name]):
            _batch_subscribers[kind_name].append(subscriber)
        return handler

    return decorator


def subscribers_of(kind_name: str) -> list[Subscriber]:
    return [*_subscribers.get(kind_name, []), *_subscribers.get(ALL, [])]


def subscriber_by_path(path: str) -> Subscriber | None:
    for subscribers in _subscribers.values():
        for subscriber in subscribers:
            if subscriber.path == path:
                return subscriber
    return None


def _check_payload(payload: dict[str, Any]) -> None:
    encoded = json.dumps(payload, default=str)
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"Event payload is larger than {MAX_PAYLOAD_BYTES} bytes; keep it small.")


def publish(
    kind_name: str,
    *,
    customer=None,
    payload: dict[str, Any] | None = None,
    source: str = "",
    occurred_at: datetime | None = None,
) -> DomainEvent:
    """Record that something happened and notify subscribers once the transaction commits."""
    kind(kind_name)
    payload = payload or {}
    _check_payload(payload)
    event = DomainEvent.objects.create(
        kind=kind_name,
        customer=customer,
        occurred_at=occurred_at or timezone.now(),
        source=source,
        payload=payload,
    )
    transaction.on_commit(lambda: dispatch(event))
    return event


class NewEvent(NamedTuple):
    """An event to publish with `publish_many`, lighter to build than a DomainEvent."""

    kind: str
    customer_id: int | None = None
    payload: dict[str, Any] | None = None
    source: str = ""
    occurred_at: datetime | None = None


_EVENT_COLUMNS = ("kind", "customer_id", "occurred_at", "recorded_at", "source", "payload")


def publish_many(new_events: Iterable[DomainEvent | NewEvent]) -> list[DomainEvent]:
    """Publish a batch of events with one bulk write; each is dispatched after the commit.

    Takes unsaved DomainEvent objects (kind, customer or customer_id, payload,
    source, occurred_at — missing occurred_at means now) or NewEvents, and applies
    the checks of `publish()` to every one before anything is written. Returns the
    saved DomainEvents (the objects given, or new ones for NewEvents), in order.
    """
    batch = list(new_events)
    if not batch:
        return []
    now = timezone.now()
    rows, written = [], []
    not_json: TypeError | None = None
    for event in batch:
        kind(event.kind)
        if isinstance(event, DomainEvent):
            customer_id = (
                event.customer.pk
                if event.customer_id is None and event.customer
                else event.customer_id
            )
        else:
            customer_id = event.customer_id
        payload = event.payload or {}
        row = (event.kind, customer_id, event.occurred_at or now, now, event.source, payload)
        rows.append(row)
        try:  # encoded once: for the size check and as the stored text
            encoded = json.dumps(payload)
        except TypeError as error:  # not JSON: checked like the rest, then refused unwritten
            _check_payload(payload)
            not_json = not_json or error
            continue
        if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
            _check_payload(payload)
        written.append((*row[:-1], encoded))
    if not_json:
        raise not_json
    ids = insert_rows(DomainEvent, _EVENT_COLUMNS, written, encoded=("payload",))
    saved = from_rows(DomainEvent, _EVENT_COLUMNS, rows, ids)
    for n, event in enumerate(batch):
        if isinstance(event, DomainEvent):  # the caller's object becomes the saved one
            for name, value in zip(_EVENT_COLUMNS, rows[n], strict=True):
                setattr(event, name, value)
            event.pk, event._state.adding, event._state.db = ids[n], False, saved[n]._state.db
            saved[n] = event
    on_commit = transaction.get_connection().on_commit  # looked up once, not per event
    batched: dict[str, list[DomainEvent]] = defaultdict(list)
    for event in saved:
        if _batch_subscribers.get(event.kind):
            batched[event.kind].append(event)
    # Batch subscribers get the whole batch of a kind when its last event is dispatched
    # (see dispatch()); still one on_commit callback per event.
    for kind_events in batched.values():
        for event in kind_events:
            event._batch = None
        kind_events[-1]._batch = kind_events
    for event in saved:
        on_commit(partial(dispatch, event))
    return saved


def record_history(events: Iterable[DomainEvent], *, batch_size: int = 2000) -> int:
    """Bulk-append events for imported history; subscribers are deliberately not called."""
    batch: list[DomainEvent] = []
    written = 0
    for event in events:
        kind(event.kind)
        batch.append(event)
        if len(batch) >= batch_size:
            written += len(DomainEvent.objects.bulk_create(batch))
            batch = []
    if batch:
        written += len(DomainEvent.objects.bulk_create(batch))
    return written


def dispatch(event: DomainEvent) -> None:
    """Hand one committed event to its subscribers; one failing subscriber never stops the rest."""
    from treu.core.tasks import deliver_event

    for subscriber in subscribers_of(event.kind):
        if subscriber.in_worker:
            deliver_event(event.pk, subscriber.path)
            continue
        try:
            subscriber.handler(event)
        except Exception:
            log.exception(
                "Subscriber %s failed on event %s (%s)", subscriber.path, event.pk, event.kind
            )
    # From publish_many(): the batch rides on its last event (None on the others); popped,
    # so an event dispatched again later reaches batch subscribers as a list of one.
    batch = event.__dict__.pop("_batch", [event])
    if batch:
        dispatch_batch(event.kind, batch)


def dispatch_batch(kind_name: str, batch: list[DomainEvent]) -> None:
    """Hand committed events of one kind to its batch subscribers, all in one call each."""
    for subscriber in _batch_subscribers.get(kind_name, []):
        try:
            subscriber.handler(batch)
        except Exception:
            log.exception(
                "Batch subscriber %s failed on %d %s events (first %s)",
                subscriber.path,
                len(batch),
                kind_name,
                batch[0].pk if batch else None,
            )


def describe(event: DomainEvent) -> TimelineEntry:
    """The timeline entry for an event, falling back to its label for kinds without a describer."""
    event_kind = _kinds.get(event.kind)
    if event_kind is None:
        return TimelineEntry(title=event.kind)
    if event_kind.describe is not None:
        return event_kind.describe(event)
    return TimelineEntry(title=str(event_kind.label), icon=event_kind.icon)
