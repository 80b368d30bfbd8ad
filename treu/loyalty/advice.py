"""What the loyalty programme offers the analytics advisor (see treu.analytics.advisor)."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse
from django.utils.translation import gettext as _

from treu.analytics import advisor
from treu.analytics.models import Segment
from treu.loyalty import referral_selectors, selectors, tier_selectors


def loyalty_advice(figures: advisor.ShopFigures) -> Iterable[advisor.Advice]:
    program = selectors.program_settings()
    found = []
    rate = figures.second_rate_90
    if program.created_at is None and rate is not None and figures.first_timers_lost:
        stake, note = advisor.first_timer_stake(figures)
        found.append(
            advisor.Advice(
                key="loyalty_programme",
                title=_("%(pct)s of your new customers do not buy again within 90 days")
                % {"pct": f"{float(1 - rate) * 100:.0f} %"},
                text=_(
                    "A loyalty programme gives them a reason to come back: points on every "
                    "purchase, welcome points, rewards they can see in reach."
                ),
                action_label=_("Set up the loyalty programme"),
                action_url=reverse("loyalty:settings"),
                stake_cents=stake,
                stake_note=note,
            )
        )
    if program.created_at is None:
        return found
    best = figures.segment(Segment.CHAMPIONS) + figures.segment(Segment.LOYAL)
    orders = figures.orders_per_customer_year or 1
    if best and not tier_selectors.tier_list():
        found.append(
            advisor.Advice(
                key="loyalty_tiers",
                title=_("Your %(n)s best customers are treated like everyone else") % {"n": best},
                text=_(
                    "Tiers such as Silber and Gold thank them visibly: more points, free "
                    "shipping, early access. Whoever is close to the next tier buys once more."
                ),
                action_label=_("Set up tiers"),
                action_url=reverse("loyalty:tier_list"),
                stake_cents=round(best * figures.aov_cents * orders),
                stake_note=_(
                    "what these %(n)s customers spend in a year: %(n)s × orders a year × "
                    "average order value"
                )
                % {"n": best},
            )
        )
    champions = figures.segment(Segment.CHAMPIONS)
    if champions and not referral_selectors.referral_settings().active:
        found.append(
            advisor.Advice(
                key="loyalty_referrals",
                title=_("%(n)s enthusiastic customers could recommend you") % {"n": champions},
                text=_(
                    "A referral programme rewards them when a friend orders for the first "
                    "time, and gives the friend a welcome discount."
                ),
                action_label=_("Switch on referrals"),
                action_url=reverse("loyalty:referral_settings"),
                stake_cents=champions * figures.aov_cents,
                stake_note=_("one friend's first order per champion: %(n)s × average order value")
                % {"n": champions},
            )
        )
    return found
