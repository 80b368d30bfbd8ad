"""Reads of outbound webhooks."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet

from treu.core import events
from treu.core.events import EventKind
from treu.webhooks.models import Attempt, Delivery, Endpoint, Subscription

# Every committed event asks "does any endpoint want this kind?". The answer is kept per
# process for a few seconds, so a batch of thousands of orders costs one query, not thousands.
# Changes in this process forget it at once; other processes (the worker) see them within
# WANTED_KINDS_TTL seconds.
WANTED_KINDS_TTL = 5.0
_wanted: tuple[float, frozenset[str]] | None = None
_wanted_lock = threading.Lock()


def outbound_kinds() -> list[EventKind]:
    """The event kinds an endpoint may subscribe to: every registered kind not marked internal."""
    return sorted((k for k in events.kinds().values() if k.outbound), key=lambda k: k.name)


def wanted_kinds() -> frozenset[str]:
    global _wanted
    current = _wanted
    if current is not None and current[0] > time.monotonic():
        return current[1]
    kinds = frozenset(
        Subscription.objects.filter(endpoint__active=True).values_list("kind", flat=True).distinct()
    )
    with _wanted_lock:
        _wanted = (time.monotonic() + WANTED_KINDS_TTL, kinds)
    return kinds


def forget_wanted_kinds() -> None:
    global _wanted
    with _wanted_lock:
        _wanted = None


def endpoint_ids_wanting(kind: str) -> list[int]:
    return list(
        Subscription.objects.filter(kind=kind, endpoint__active=True)
        .order_by("endpoint_id")
        .values_list("endpoint_id", flat=True)
    )


def endpoint_list() -> QuerySet[Endpoint]:
    return Endpoint.objects.prefetch_related("subscriptions").order_by("url", "pk")


def auto_disabled_endpoints() -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(active=False, disabled_at__isnull=False).order_by("url")


def endpoint_detail(endpoint_id: int) -> Endpoint:
    return Endpoint.objects.prefetch_related("subscriptions").get(pk=endpoint_id)


def recent_deliveries(endpoint: Endpoint, *, limit: int = 50) -> list[Delivery]:
    return list(
        Delivery.objects.filter(endpoint=endpoint)
        .defer("payload")
        .order_by("-created_at", "-pk")[:limit]
    )


def recent_attempts(endpoint: Endpoint, *, limit: int = 20) -> list[Attempt]:
    return list(
        Attempt.objects.filter(delivery__endpoint=endpoint)
        .select_related("delivery")
        .defer("delivery__payload")
        .order_by("-attempted_at", "-pk")[:limit]
    )


def delivery_detail(delivery_id: int) -> Delivery:
    attempts = Prefetch("attempts_log", queryset=Attempt.objects.order_by("-attempted_at", "-pk"))
    return (
        Delivery.objects.select_related("endpoint").prefetch_related(attempts).get(pk=delivery_id)
    )


def due_delivery_ids(*, now: datetime, grace: timedelta, limit: int = 200) -> list[int]:
    """Open deliveries whose time passed `grace` ago: their queued task was lost or is stuck."""
    return list(
        Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED],
            next_attempt_at__lte=now - grace,
            endpoint__active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
