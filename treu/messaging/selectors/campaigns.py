"""Reads of campaigns: the list, the audience while editing, what is due for the worker,
and the results — per A/B variant and summed over the campaign's key prefixes.

A campaign's mails are keyed `campaign:<id>:customer:<n>` (the whole send, or the rest
after an A/B test), `campaign:<id>:a:…` and `campaign:<id>:b:…`; its control group is
held back once, from the whole audience, under `campaign:<id>`. Every figure is a
grouped query per prefix over the outbox's key index; nothing scans the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.analytics.uplift import GroupRevenue, Uplift, conversion_uplift, revenue_uplift
from treu.customers import selectors as customer_selectors
from treu.messaging.models import (
    AbMetric,
    Campaign,
    CampaignStatus,
    Channel,
    ConsentAction,
    DeliveryStatus,
    EventKind,
    MessageEvent,
    MessageStatus,
    OutboundMessage,
    Segment,
    SegmentMembership,
    Topic,
)
from treu.messaging.models.consent import Consent, ConsentRecord, ConsentState
from treu.messaging.selectors.consent import marketing_consent_condition
from treu.messaging.selectors.conversions import (
    CUSTOMER_PART,
    attribution_window,
    conversions_by_prefix,
)
from treu.messaging.selectors.sending import GroupOutcome, held_out_count, send_outcome

RUNNABLE = [CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.TESTING]
CANCELLABLE = [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.TESTING]


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.select_related("segment", "mail_template").order_by(
        "-created_at", "-id"
    )


def campaign_by_id(campaign_id: int) -> Campaign | None:
    return (
        Campaign.objects.select_related("segment", "mail_template", "template_b", "topic")
        .filter(pk=campaign_id)
        .first()
    )


def campaign_send_names() -> dict[str, str]:
    """{prefix: "Kampagne: name"} of the campaigns with a control group, for the experiment
    log's list of sends to measure against."""
    label = _("Campaign")
    return {
        f"campaign:{pk}": f"{label}: {name}"
        for pk, name in Campaign.objects.filter(control_percent__gt=0)
        .exclude(status__in=[CampaignStatus.DRAFT, CampaignStatus.CANCELLED])
        .values_list("pk", "name")
    }


def due_campaign_ids(*, now: datetime) -> list[int]:
    """Campaigns the worker should act on now: first sends, A/B decisions, and sends a
    crashed worker left (its lease ran out)."""
    return list(
        Campaign.objects.filter(status__in=RUNNABLE, due_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now()))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)
    )


def member_ids(segment: Segment) -> list[int]:
    """The segment's stored members, in id order (the unique index serves it)."""
    return list(
        SegmentMembership.objects.filter(segment=segment)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
    )


@dataclass(frozen=True)
class Audience:
    members: int  # in the segment now
    reachable: int  # of them, with a valid marketing consent (for the topic)
    control: int  # of those, about how many the control group holds back

    @property
    def mailed(self) -> int:
        return self.reachable - self.control


def audience(segment: Segment, *, topic: Topic | None = None, control_percent: int = 0):
    """Two counts over the stored members; the frequency cap and quiet hours are decided
    at sending time and may hold back a few more."""
    members = SegmentMembership.objects.filter(segment=segment)
    reachable = (
        customer_selectors.segmentable_customers()
        .filter(pk__in=members.values("customer_id"))
        .filter(marketing_consent_condition(topic=topic))
        .count()
    )
    control = round(reachable * max(0, min(control_percent, 50)) / 100)
    return Audience(members=members.count(), reachable=reachable, control=control)


# -- Results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One prefix's mails, or the sum over the campaign's prefixes."""

    queued: int = 0  # outbox rows written
    sent: int = 0
    waiting: int = 0  # still queued or being sent
    failed: int = 0  # failed, suppressed at sending, or unclear
    delivered: int = 0
    bounced: int = 0
    tracked: int = 0  # sent to customers who allow measuring opens
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0  # withdrew within the attribution window after their mail
    orders: int = 0
    revenue_cents: int = 0
    outcome: GroupOutcome = GroupOutcome(0, 0, 0, 0)

    def __add__(self, other: Figures) -> Figures:
        numbers = {
            name: getattr(self, name) + getattr(other, name)
            for name in self.__dataclass_fields__
            if name != "outcome"
        }
        a, b = self.outcome, other.outcome
        return Figures(
            **numbers,
            outcome=GroupOutcome(
                a.people + b.people,
                a.converted + b.converted,
                a.revenue_cents + b.revenue_cents,
                a.revenue_squares + b.revenue_squares,
            ),
        )

    def rate(self, metric: str) -> float:
        """The A/B test's figure per mail sent (opens: per mail that could be measured)."""
        if metric == AbMetric.OPENS:
            return self.opened / self.tracked if self.tracked else 0.0
        if not self.sent:
            return 0.0
        value = {
            AbMetric.CLICKS: self.clicked,
            AbMetric.ORDERS: self.orders,
            AbMetric.REVENUE: self.revenue_cents,
        }[metric]
        return value / self.sent


def _figures(
    prefix: str, conversions, *, window: timedelta, now: datetime, outcome: bool = True
) -> Figures:
    """One prefix's own mails; `outcome`: its recipients' orders (send_outcome counts the
    mails under the prefix too: "campaign:7" holds "campaign:7:a" and "campaign:7:b")."""
    rows = OutboundMessage.objects.filter(key__startswith=f"{prefix}{CUSTOMER_PART}")
    event = MessageEvent.objects.filter(message_id=OuterRef("pk"))
    tracking = Consent.objects.filter(
        customer_id=OuterRef("customer_id"),
        channel=Channel.EMAIL,
        state=ConsentState.ACTIVE,
        tracking=True,
    )
    withdrawn = ConsentRecord.objects.filter(
        customer_id=OuterRef("customer_id"),
        channel=Channel.EMAIL,
        action=ConsentAction.WITHDRAWN,
        occurred_at__gte=OuterRef("sent_at"),
        occurred_at__lt=ExpressionWrapper(
            OuterRef("sent_at") + Value(window), output_field=DateTimeField()
        ),
    )
    sent = Q(status=MessageStatus.SENT)
    counts = rows.aggregate(
        queued=Count("pk"),
        sent=Count("pk", filter=sent),
        waiting=Count("pk", filter=Q(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])),
        failed=Count(
            "pk",
            filter=Q(
                status__in=[MessageStatus.FAILED, MessageStatus.SUPPRESSED, MessageStatus.UNCLEAR]
            ),
        ),
        delivered=Count("pk", filter=Q(delivery_status=DeliveryStatus.DELIVERED)),
        bounced=Count(
            "pk",
            filter=Q(delivery_status__in=[DeliveryStatus.BOUNCED, DeliveryStatus.REJECTED]),
        ),
        tracked=Count("pk", filter=sent & Q(Exists(tracking))),
        opened=Count("pk", filter=sent & Q(Exists(event.filter(kind=EventKind.OPEN)))),
        clicked=Count("pk", filter=sent & Q(Exists(event.filter(kind=EventKind.CLICK)))),
        unsubscribed=Count("pk", filter=sent & Q(Exists(withdrawn))),
    )
    found = conversions.get(prefix)
    return Figures(
        **counts,
        orders=found.orders if found else 0,
        revenue_cents=found.revenue_cents if found else 0,
        outcome=(
            send_outcome(prefix, window=window, now=now).recipients
            if outcome
            else GroupOutcome(0, 0, 0, 0)
        ),
    )


@dataclass(frozen=True)
class VariantResult:
    key: str  # "a", "b"
    label: str
    figures: Figures
    conversion: Uplift
    revenue: Uplift


@dataclass(frozen=True)
class CampaignResults:
    audience: int
    without_consent: int
    at_cap: int
    held_out: int
    total: Figures  # every mail of the campaign (A + B + the rest)
    control: GroupOutcome
    conversion: Uplift  # recipients against the control group
    revenue: Uplift
    variants: list[VariantResult]  # empty without an A/B test
    rest: Figures | None  # the winner's mails to the rest, for an A/B test
    window_days: int


def _uplifts(recipients: GroupOutcome, control: GroupOutcome) -> tuple[Uplift, Uplift]:
    return (
        conversion_uplift(
            treated_conversions=recipients.converted,
            treated=recipients.people,
            control_conversions=control.converted,
            control=control.people,
        ),
        revenue_uplift(
            GroupRevenue(recipients.people, recipients.revenue_cents, recipients.revenue_squares),
            GroupRevenue(control.people, control.revenue_cents, control.revenue_squares),
        ),
    )


def variant_figures(campaign: Campaign, *, now: datetime) -> dict[str, Figures]:
    """{"a": …, "b": …} for the A/B test's halves (what the winner is chosen on)."""
    window = attribution_window()
    prefixes = [f"{campaign.prefix}:a", f"{campaign.prefix}:b"]
    conversions = conversions_by_prefix(prefixes, window=window, placed_before=now)
    return {
        p[-1]: _figures(p, conversions, window=window, now=now) for p in prefixes
    }  # fmt: skip


def campaign_results(campaign: Campaign, *, now: datetime) -> CampaignResults:
    window = attribution_window()
    prefixes = campaign.prefixes
    conversions = conversions_by_prefix(prefixes, window=window, placed_before=now)
    # The rest's mails (campaign:<id>) are counted alone; its outcome holds A and B too.
    per_prefix = {
        p: _figures(p, conversions, window=window, now=now, outcome=p != campaign.prefix)
        for p in prefixes
    }
    total = Figures()
    for figures in per_prefix.values():
        total = total + figures
    outcome = send_outcome(campaign.prefix, window=window, now=now)
    total = replace(total, outcome=outcome.recipients)  # each recipient once
    control = outcome.control
    conversion, revenue = _uplifts(total.outcome, control)
    variants = []
    if campaign.is_ab_test:
        for key, label in (("a", "A"), ("b", "B")):
            figures = per_prefix[f"{campaign.prefix}:{key}"]
            v_conversion, v_revenue = _uplifts(figures.outcome, control)
            variants.append(VariantResult(key, label, figures, v_conversion, v_revenue))
    return CampaignResults(
        audience=campaign.audience_count,
        without_consent=campaign.without_consent_count,
        at_cap=campaign.at_cap_count,
        held_out=held_out_count(campaign.prefix),
        total=total,
        control=control,
        conversion=conversion,
        revenue=revenue,
        variants=variants,
        rest=per_prefix[campaign.prefix] if campaign.is_ab_test else None,
        window_days=window.days,
    )
