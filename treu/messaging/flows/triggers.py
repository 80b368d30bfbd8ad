"""Who enters which automation, and when: domain events and the daily check.

Events (after their commit): `consent.confirmed` → newsletter flows; `order.ingested`
(batches set-based) → first-order and every-order flows; `loyalty.tier_changed` upwards →
tier flows; `loyalty.points_expiring` (loyalty's 30- and 7-day warnings) → expiry flows.
Daily (`enroll_daily`): birthdays and first-order anniversaries (today and three days back,
so a day the worker missed is caught up — the year is the occasion, so no one gets two),
customers past their expected next order, products running out, the long-unengaged.
Only switched-on flows enrol anyone.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from treu.analytics import selectors as analytics_selectors
from treu.core.events import subscribe, subscribe_batch
from treu.customers import selectors as customer_selectors
from treu.messaging.flows.services import enroll_customers
from treu.messaging.models import (
    Channel,
    Consent,
    ConsentState,
    EventKind,
    Flow,
    FlowTrigger,
    MessageEvent,
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
)

log = logging.getLogger(__name__)
CATCH_UP_DAYS = 3
# Orders placed longer ago than this start nothing: an import of last year's orders must
# not thank anyone for a purchase from back then.
FRESH_ORDER_DAYS = 14


# Whether any order-triggered flow is on, per process for a minute: an import of 100,000
# orders should not ask the database once per batch. Switching a flow clears it here; other
# processes see the change within the minute.
ORDER_FLOWS_TTL = 60.0
_order_flows: tuple[float, bool] | None = None


def any_order_flow() -> bool:
    global _order_flows
    now = clock.monotonic()
    if _order_flows is None or now - _order_flows[0] > ORDER_FLOWS_TTL:
        on = Flow.objects.filter(
            active=True, trigger__in=[FlowTrigger.FIRST_ORDER, FlowTrigger.ORDER]
        ).exists()
        _order_flows = (now, on)
    return _order_flows[1]


def forget_order_flows() -> None:
    global _order_flows
    _order_flows = None


def active_flows(trigger: str) -> list[Flow]:
    return list(Flow.objects.filter(active=True, trigger=trigger).order_by("pk"))


def _enroll_all(trigger: str, occasions: dict, *, now: datetime) -> int:
    if not occasions:
        return 0
    return sum(enroll_customers(flow, occasions, now=now) for flow in active_flows(trigger))


@subscribe("consent.confirmed")
def enroll_confirmed_subscriber(event) -> None:
    payload = event.payload or {}
    if payload.get("channel") != Channel.EMAIL or not event.customer_id:
        return
    _enroll_all(FlowTrigger.NEWSLETTER_CONFIRMED, {event.customer_id: ""}, now=timezone.now())


@subscribe_batch("order.ingested")
def enroll_orders_subscriber(events: list) -> None:
    fresh = timezone.now() - timedelta(days=FRESH_ORDER_DAYS)
    orders = {
        e.customer_id: e.payload.get("order_id")
        for e in events
        if e.customer_id and e.occurred_at >= fresh
    }
    if not orders or not any_order_flow():
        return  # the usual case of an import: no query at all
    flows_first = active_flows(FlowTrigger.FIRST_ORDER)
    flows_every = active_flows(FlowTrigger.ORDER)
    now = timezone.now()
    if flows_first:
        first = customer_selectors.first_time_buyer_ids(orders)
        occasions = {pk: ("first", {"order_id": orders[pk]}) for pk in first}
        for flow in flows_first:
            enroll_customers(flow, occasions, now=now)
    occasions = {
        pk: (f"order:{order_id}", {"order_id": order_id})
        for pk, order_id in orders.items()
        if order_id
    }
    for flow in flows_every:
        enroll_customers(flow, occasions, now=now)


@subscribe("loyalty.tier_changed")
def enroll_tier_subscriber(event) -> None:
    payload = event.payload or {}
    if payload.get("direction") != "up" or not payload.get("to_tier") or not event.customer_id:
        return
    occasion = (f"tier:{payload['to_tier']}:{event.pk}", {"tier": payload["to_tier"]})
    _enroll_all(FlowTrigger.TIER_REACHED, {event.customer_id: occasion}, now=timezone.now())


@subscribe("loyalty.points_expiring")
def enroll_expiring_subscriber(event) -> None:
    payload = event.payload or {}
    if not event.customer_id:
        return
    occasion = (
        f"expiry:{payload.get('expires_on')}:{payload.get('days_before')}",
        {"points": payload.get("points"), "expires_on": payload.get("expires_on")},
    )
    _enroll_all(FlowTrigger.POINTS_EXPIRING, {event.customer_id: occasion}, now=timezone.now())


# -- The daily check ---------------------------------------------------------------------


def enroll_daily(*, now: datetime | None = None) -> int:
    """Enrol everyone the date-based triggers of switched-on flows find today."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    total = 0
    if active_flows(FlowTrigger.BIRTHDAY):
        occasions = {}
        for back in range(CATCH_UP_DAYS, -1, -1):
            day = today - timedelta(days=back)
            ids = customer_selectors.customer_ids_with_birthday_on(day)
            occasions.update({pk: str(day.year) for pk in _ids(ids)})
        total += _enroll_all(FlowTrigger.BIRTHDAY, occasions, now=now)
    if active_flows(FlowTrigger.ANNIVERSARY):
        occasions = {}
        for back in range(CATCH_UP_DAYS, -1, -1):
            day = today - timedelta(days=back)
            ids = customer_selectors.customer_ids_with_first_order_anniversary_on(day)
            occasions.update({pk: str(day.year) for pk in _ids(ids)})
        total += _enroll_all(FlowTrigger.ANNIVERSARY, occasions, now=now)
    for flow in active_flows(FlowTrigger.OVERDUE):
        rows = analytics_selectors.customer_ids_overdue(
            days=int(flow.trigger_settings.get("days", 30)), today=today
        )
        occasions = {
            r["customer_id"]: f"due:{r['next_order_on'].isoformat()}" for r in rows.iterator()
        }
        total += enroll_customers(flow, occasions, now=now)
    for flow in active_flows(FlowTrigger.RUNNING_OUT):
        rows = analytics_selectors.customers_running_out(
            within_days=int(flow.trigger_settings.get("within_days", 5)), now=now
        ).values_list("customer_id", "product_id", "runout_at")
        occasions = {}
        for customer_id, product_id, runout_at in rows.iterator():
            occasions.setdefault(
                customer_id,
                (
                    f"runout:{product_id}:{timezone.localdate(runout_at).isoformat()}",
                    {"product_id": product_id},
                ),
            )
        total += enroll_customers(flow, occasions, now=now)
    for flow in active_flows(FlowTrigger.UNENGAGED):
        ids = unengaged_customer_ids(
            days=int(flow.trigger_settings.get("days", 180)),
            min_mails=int(flow.trigger_settings.get("min_mails", 5)),
            now=now,
        )
        total += enroll_customers(flow, {pk: today.isoformat() for pk in ids}, now=now)
    return total


def unengaged_customer_ids(*, days: int, min_mails: int, now: datetime) -> list[int]:
    """Subscribed for longer than `days`, at least `min_mails` marketing mails sent in that
    time, and not one open or click in it: one grouped query."""
    since = now - timedelta(days=days)
    engaged = MessageEvent.objects.filter(
        message__customer_id=OuterRef("customer_id"),
        kind__in=[EventKind.OPEN, EventKind.CLICK],
        at__gte=since,
    )
    subscribed = Consent.objects.filter(
        customer_id=OuterRef("customer_id"),
        channel=Channel.EMAIL,
        state=ConsentState.ACTIVE,
        updated_at__lt=since,
    )
    return list(
        OutboundMessage.objects.filter(
            purpose=MessagePurpose.MARKETING,
            status=MessageStatus.SENT,
            sent_at__gte=since,
            customer_id__isnull=False,
        )
        .filter(Exists(subscribed), ~Exists(engaged))
        .order_by()
        .values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=min_mails)
        .values_list("customer_id", flat=True)
    )


def _ids(queryset) -> Iterable[int]:
    return queryset.values_list("pk", flat=True).iterator()
