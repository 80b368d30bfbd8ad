"""Event kinds commerce publishes. Loyalty, messaging and webhooks subscribe to these."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from treu.commerce.models import OrderStatus, ReturnReason
from treu.core import events
from treu.core.events import TimelineEntry

ORDER_INGESTED = "order.ingested"
ORDER_UPDATED = "order.updated"
ORDER_CANCELLED = "order.cancelled"
ORDER_REFUNDED = "order.refunded"


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _order_url(event) -> str:
    order_id = event.payload.get("order_id")
    return reverse("commerce:order_detail", args=[order_id]) if order_id else ""


def _ingested(event) -> TimelineEntry:
    p = event.payload
    items = p.get("item_count", 0)
    return TimelineEntry(
        title=_("Order %(number)s") % {"number": p.get("number", "?")},
        detail=ngettext("%(count)d item via %(shop)s", "%(count)d items via %(shop)s", items)
        % {"count": items, "shop": p.get("shop", "?")},
        url=_order_url(event),
        icon="order",
        amount_cents=p.get("total_cents"),
    )


def _updated(event) -> TimelineEntry:
    p = event.payload
    return TimelineEntry(
        title=_("Order %(number)s updated") % {"number": p.get("number", "?")},
        detail=_label(OrderStatus, p.get("status")),
        url=_order_url(event),
        icon="order",
    )


def _cancelled(event) -> TimelineEntry:
    p = event.payload
    return TimelineEntry(
        title=_("Order %(number)s cancelled") % {"number": p.get("number", "?")},
        url=_order_url(event),
        icon="cancel",
        amount_cents=p.get("total_cents"),
    )


def _refunded(event) -> TimelineEntry:
    p = event.payload
    return TimelineEntry(
        title=_("Return for order %(number)s") % {"number": p.get("number", "?")},
        detail=_label(ReturnReason, p.get("reason")),
        url=_order_url(event),
        icon="return",
        amount_cents=-int(p.get("amount_cents", 0)),
    )


events.register_kind(ORDER_INGESTED, label=gettext_lazy("Order placed"), describe=_ingested)
events.register_kind(ORDER_UPDATED, label=gettext_lazy("Order updated"), describe=_updated)
events.register_kind(ORDER_CANCELLED, label=gettext_lazy("Order cancelled"), describe=_cancelled)
events.register_kind(ORDER_REFUNDED, label=gettext_lazy("Return / refund"), describe=_refunded)
