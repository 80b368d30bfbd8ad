"""What the automations offer the analytics advisor (see treu.analytics.advisor)."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from django.urls import reverse
from django.utils.translation import gettext as _

from treu.analytics import advisor
from treu.analytics.models import Segment
from treu.messaging.models import Flow


def _off(key: str) -> Flow | None:
    """The default flow of this key while it is switched off (None: on, or deleted)."""
    return Flow.objects.filter(default_key=key, active=False).first()


def flow_advice(figures: advisor.ShopFigures) -> Iterable[advisor.Advice]:
    found = []
    rate = figures.second_rate_90
    post_purchase = _off("post_purchase")
    if post_purchase is not None and rate is not None and figures.first_timers_lost:
        stake, note = advisor.first_timer_stake(figures)
        found.append(
            advisor.Advice(
                key="flow_post_purchase",
                title=_("%(pct)s of your first-time buyers do not buy again within 90 days")
                % {"pct": f"{float(1 - rate) * 100:.0f} %"},
                text=_(
                    "Switch on the post-purchase automation: a thank-you with tips a day "
                    "after the first order, ready written, with a control group that shows "
                    "whether it brings second orders."
                ),
                action_label=_("Switch on the post-purchase automation"),
                action_url=reverse("messaging:flow_detail", args=[post_purchase.pk]),
                stake_cents=stake,
                stake_note=note,
            )
        )
    winback = _off("winback")
    drifting = figures.segment(Segment.AT_RISK) + figures.segment(Segment.CANT_LOSE)
    if winback is not None and drifting and figures.aov_cents:
        orders = figures.orders_per_customer_year or Fraction(1)
        found.append(
            advisor.Advice(
                key="flow_winback",
                title=_("%(n)s regular customers are past their usual time to reorder")
                % {"n": drifting},
                text=_(
                    "The win-back automation writes to each of them when their next order "
                    "is overdue, with a coupon — by itself, every day."
                ),
                action_label=_("Switch on the win-back automation"),
                action_url=reverse("messaging:flow_detail", args=[winback.pk]),
                # Half of the at-risk stake: the other half is analytics' own advice.
                stake_cents=round(drifting * figures.aov_cents * orders / 2),
                stake_note=_(
                    "half of what %(n)s drifting regulars spend in a year: %(n)s × orders a "
                    "year × average order value ÷ 2"
                )
                % {"n": drifting},
            )
        )
    return found
