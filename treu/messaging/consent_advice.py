"""What the newsletter sign-up offers the analytics advisor (see treu.analytics.advisor)."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse
from django.utils.translation import gettext as _

from treu.analytics import advisor
from treu.messaging.models import Channel, Consent, ConsentState

# Below this share of active customers who may get the newsletter, growing the list pays.
WORTH_GROWING = 0.5


def consent_advice(figures: advisor.ShopFigures) -> Iterable[advisor.Advice]:
    active = figures.active
    if not active or not figures.aov_cents:
        return []
    allowed = Consent.objects.filter(channel=Channel.EMAIL, state=ConsentState.ACTIVE).count()
    share = min(allowed / active, 1.0)
    if share >= WORTH_GROWING:
        return []
    unreachable = max(active - allowed, 0)
    return [
        advisor.Advice(
            key="newsletter_signup",
            title=_("Only %(pct)s of your active customers may get your newsletter")
            % {"pct": f"{share * 100:.0f} %"},
            text=_(
                "Put the sign-up form into your shop's checkout confirmation and your "
                "footer, and offer it at the till: every mail you may send starts there."
            ),
            action_label=_("Get the sign-up form"),
            action_url=reverse("messaging:consent_embed"),
            stake_cents=unreachable * figures.aov_cents,
            stake_note=_(
                "one order from each active customer you cannot write to: %(n)s × "
                "average order value"
            )
            % {"n": unreachable},
        )
    ]
