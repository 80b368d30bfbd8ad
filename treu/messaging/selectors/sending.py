"""Reads behind every campaign and automation send: when each customer's mail may go out
(their time zone, quiet hours), who is at the frequency cap, and how a send's recipients
fared against its control group."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from treu.commerce import selectors as commerce_selectors
from treu.customers import selectors as customer_selectors
from treu.messaging.models import (
    Holdout,
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
    SendingRules,
)
from treu.messaging.selectors.conversions import CUSTOMER_PART

WEEK = timedelta(days=7)
# The zone of each country treu's shops usually ship to; others, and customers without an
# address, get the installation's zone. Countries spanning several zones are left out.
COUNTRY_ZONES = {
    "DE": "Europe/Berlin", "AT": "Europe/Vienna", "CH": "Europe/Zurich",
    "LI": "Europe/Vaduz", "LU": "Europe/Luxembourg", "BE": "Europe/Brussels",
    "NL": "Europe/Amsterdam", "FR": "Europe/Paris", "IT": "Europe/Rome",
    "ES": "Europe/Madrid", "DK": "Europe/Copenhagen", "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo", "FI": "Europe/Helsinki", "PL": "Europe/Warsaw",
    "CZ": "Europe/Prague", "SK": "Europe/Bratislava", "HU": "Europe/Budapest",
    "SI": "Europe/Ljubljana", "HR": "Europe/Zagreb", "GR": "Europe/Athens",
    "RO": "Europe/Bucharest", "BG": "Europe/Sofia", "EE": "Europe/Tallinn",
    "LV": "Europe/Riga", "LT": "Europe/Vilnius", "IE": "Europe/Dublin",
    "GB": "Europe/London", "IS": "Atlantic/Reykjavik", "MT": "Europe/Malta",
    "CY": "Asia/Nicosia", "TR": "Europe/Istanbul", "JP": "Asia/Tokyo",
}  # fmt: skip


def sending_rules() -> SendingRules:
    return SendingRules.current()


def zone_for(country: str) -> ZoneInfo:
    return ZoneInfo(COUNTRY_ZONES.get((country or "").upper(), settings.TIME_ZONE))


def after_quiet_hours(moment: datetime, zone: ZoneInfo, rules: SendingRules) -> datetime:
    """The moment itself, or the end of the quiet hours it falls into (local time)."""
    if not rules.has_quiet_hours:
        return moment
    local = moment.astimezone(zone)
    now, start, end = local.time(), rules.quiet_from, rules.quiet_until
    if start < end:  # e.g. 12:00–14:00 within one day
        if start <= now < end:
            return _at(local.date(), end, zone)
        return moment
    if now >= start:  # e.g. 20:00–08:00 over midnight: evening part
        return _at(local.date() + timedelta(days=1), end, zone)
    if now < end:  # the early-morning part
        return _at(local.date(), end, zone)
    return moment


def _at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    # A wall time skipped by the spring change resolves forward (zoneinfo's fold=0 rule).
    return datetime.combine(day, wall, tzinfo=zone)


def send_moments(
    countries: Mapping[int, str],
    *,
    now: datetime,
    local: datetime | None = None,
    rules: SendingRules | None = None,
    quiet_hours: bool = True,
) -> dict[int, datetime]:
    """When each customer's mail may be handed over ({id: country} in).

    `local`: a naive wall time meant in each customer's own zone (a campaign "Tuesday
    10:00"); a moment already past means now. Quiet hours then push it to their end.
    """
    rules = rules or sending_rules()
    moments = {}
    for customer_id, country in countries.items():
        zone = zone_for(country)
        moment = now
        if local is not None:
            moment = max(now, local.replace(tzinfo=zone))
        if quiet_hours:
            moment = after_quiet_hours(moment, zone, rules)
        moments[customer_id] = moment
    return moments


def customers_at_cap(
    moments: Mapping[int, datetime], *, rules: SendingRules | None = None
) -> set[int]:
    """Customers who may not get one more marketing mail at their moment.

    A mail at t is allowed while the other marketing mails within a week before or after t
    number fewer than the cap, so no seven-day window ever holds more than the cap. One
    query over the customers' outbox rows in the whole span; suppressed and failed ones do
    not count.
    """
    rules = rules or sending_rules()
    if not rules.weekly_cap or not moments:
        return set()
    # In UTC: a week on a Berlin clock is an hour short or long across a clock change.
    moments = {pk: at.astimezone(UTC) for pk, at in moments.items()}
    low, high = min(moments.values()) - WEEK, max(moments.values()) + WEEK
    rows = (
        OutboundMessage.objects.filter(
            customer_id__any_of=list(moments),
            purpose=MessagePurpose.MARKETING,
            not_before__gt=low,
            not_before__lt=high,
        )
        .exclude(status__in=[MessageStatus.FAILED, MessageStatus.SUPPRESSED])
        .order_by()
        .values_list("customer_id", "not_before")
    )
    planned: dict[int, list[datetime]] = defaultdict(list)
    for customer_id, not_before in rows:
        planned[customer_id].append(not_before)
    return {
        customer_id
        for customer_id, times in planned.items()
        if sum(1 for t in times if abs(t - moments[customer_id]) < WEEK) >= rules.weekly_cap
    }


def keys_in_outbox(keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 1000):
        found.update(
            OutboundMessage.objects.filter(key__in=keys[start : start + 1000]).values_list(
                "key", flat=True
            )
        )
    return found


@dataclass(frozen=True)
class GroupOutcome:
    """One group of a send: people, those who ordered within the window after their moment,
    their orders' revenue (cents, after refunds) and its sum of squares per person."""

    people: int
    converted: int
    revenue_cents: int
    revenue_squares: int


@dataclass(frozen=True)
class SendOutcome:
    recipients: GroupOutcome
    control: GroupOutcome


def _outcome(rows, window: timedelta, placed_before: datetime) -> GroupOutcome:
    """rows: one per person, a queryset with `person` (the customer's id) and `moment`."""
    orders = commerce_selectors.live_order_facts(placed_before=placed_before).filter(
        customer_id=OuterRef("person"),
        placed_at__gte=OuterRef("moment"),
        placed_at__lt=ExpressionWrapper(
            OuterRef("moment") + Value(window), output_field=DateTimeField()
        ),
    )
    per_person = rows.annotate(
        n=Coalesce(
            Subquery(
                orders.values("customer_id").annotate(n=Count("id")).values("n")[:1],
                output_field=IntegerField(),
            ),
            0,
        ),
        cents=Coalesce(
            Subquery(
                orders.values("customer_id").annotate(s=Sum("revenue_cents")).values("s")[:1],
                output_field=IntegerField(),
            ),
            0,
        ),
    )
    values = list(per_person.values_list("n", "cents"))
    return GroupOutcome(
        people=len(values),
        converted=sum(1 for n, _ in values if n),
        revenue_cents=sum(int(c) for _, c in values),
        revenue_squares=sum(int(c) * int(c) for _, c in values),
    )


def sent_mails_of(prefix: str):
    """The sent mails of a send and of everything under it: "campaign:7" holds
    "campaign:7:a" and "campaign:7:b", "flow:3" its steps ("flow:3:step:2")."""
    return OutboundMessage.objects.filter(
        key__startswith=f"{prefix}:",
        key__contains=CUSTOMER_PART,
        status=MessageStatus.SENT,
        customer_id__isnull=False,
    )


def send_outcome(prefix: str, *, window: timedelta, now: datetime) -> SendOutcome:
    """Recipients (each customer who got a mail of the send, from their first one) against
    the control group held back from it (from the moment they were held back): people,
    who ordered within the window, revenue. One query per group."""
    mails = sent_mails_of(prefix)
    first = mails.filter(customer_id=OuterRef("pk")).order_by("sent_at").values("sent_at")[:1]
    recipients = (
        customer_selectors.segmentable_customers()
        .filter(pk__in=mails.values("customer_id"))
        .order_by()
        .annotate(person=F("pk"), moment=Subquery(first))
        .values("person", "moment")
    )
    control = (
        Holdout.objects.filter(prefix=prefix)
        .order_by()
        .annotate(person=F("customer_id"), moment=F("at"))
        .values("person", "moment")
    )
    return SendOutcome(
        recipients=_outcome(recipients, window, now), control=_outcome(control, window, now)
    )


def held_out_count(prefix: str) -> int:
    return Holdout.objects.filter(prefix=prefix).count()


# Campaigns and automations say what their sends are called ({prefix: name}), for the
# experiment log's choice of control groups; a prefix no one names shows as itself.
_send_names: list[Callable[[], dict[str, str]]] = []


def register_send_names(names: Callable[[], dict[str, str]]) -> None:
    if names not in _send_names:
        _send_names.append(names)


def measurable_sends() -> list[tuple[str, str]]:
    """(prefix, name) of every send with a control group: those named by campaigns and
    automations, and any that held people back."""
    names: dict[str, str] = {}
    for provider in _send_names:
        names.update(provider())
    held = Holdout.objects.order_by().values_list("prefix", flat=True).distinct()
    for prefix in held:
        names.setdefault(prefix, prefix)
    return sorted(names.items(), key=lambda item: str(item[1]).lower())
