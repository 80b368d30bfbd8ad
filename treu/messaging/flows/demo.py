"""The demo roaster's automations: a few switched on, with four weeks of history."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from treu.customers import selectors as customer_selectors
from treu.messaging.flows import engine, services, triggers
from treu.messaging.models import (
    Enrollment,
    Flow,
    FlowTrigger,
    Holdout,
    OutboundMessage,
    StaffTask,
)

SWITCHED_ON = ("post_purchase", "birthday", "winback", "tier_reached")
HISTORY_DAYS = 28


def reset() -> None:
    # The flows' mails too: they name the demo's customers, who go next.
    OutboundMessage.objects.filter(key__startswith="flow:").delete()
    Holdout.objects.filter(prefix__startswith="flow:").delete()
    StaffTask.objects.all().delete()
    Enrollment.objects.all().delete()
    Flow.objects.update(active=False, switched_at=None)


def finish() -> None:
    """Switch the demo's flows on as of four weeks ago and replay those weeks day by day:
    first orders enter the thank-you flow, the daily check finds birthdays and overdue
    regulars, and the worker runs the steps at each day's moment."""
    services.ensure_default_flows()
    # The demo's history ends at its last order (a demo built "until" a past day too).
    last = customer_selectors.segmentable_customers().aggregate(last=Max("last_order_at"))["last"]
    end = min(timezone.now(), last + timedelta(hours=6)) if last else timezone.now()
    start = end - timedelta(days=HISTORY_DAYS)
    for flow in Flow.objects.filter(default_key__in=SWITCHED_ON):
        services.switch_flow(flow=flow, active=True, now=start)
    for day in range(HISTORY_DAYS + 1):
        moment = start + timedelta(days=day)
        first = (
            customer_selectors.segmentable_customers()
            .filter(first_order_at__gt=moment - timedelta(days=1), first_order_at__lte=moment)
            .values_list("pk", flat=True)
        )
        for flow in triggers.active_flows(FlowTrigger.FIRST_ORDER):
            services.enroll_customers(flow, {pk: "first" for pk in first}, now=moment)
        triggers.enroll_daily(now=moment)
        engine.run_due_enrollments(now=moment, budget=3600)
