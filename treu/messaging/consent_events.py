"""Event kinds of the consent part, for loyalty, webhooks and the customer timeline.

Payload of all three: `channel` (email …), `purpose` (newsletter), `consent_id` (the
customer's Consent row for the channel: one per customer and channel, so loyalty's
newsletter points are earned once, even after unsubscribing and signing up again),
`legal_basis`, `source`; `consent.withdrawn` adds `method`.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core import events
from treu.core.events import TimelineEntry

CONSENT_REQUESTED = "consent.requested"
CONSENT_CONFIRMED = "consent.confirmed"
CONSENT_WITHDRAWN = "consent.withdrawn"


def _proof_url(event) -> str:
    return reverse("messaging:consent_proof", args=[event.customer_id]) if event.customer_id else ""


def _channel(event) -> str:
    from treu.messaging.models import Channel

    channel = event.payload.get("channel", "")
    return str(Channel(channel).label) if channel in Channel.values else channel


def _source(event) -> str:
    from treu.messaging.models import ConsentSource

    source = event.payload.get("source", "")
    return str(ConsentSource(source).label) if source in ConsentSource.values else source


def _requested(event) -> TimelineEntry:
    return TimelineEntry(
        title=_("Signed up for the newsletter, waiting for confirmation"),
        detail=_("%(channel)s · %(source)s")
        % {"channel": _channel(event), "source": _source(event)},
        url=_proof_url(event),
        icon="mail",
    )


def _confirmed(event) -> TimelineEntry:
    return TimelineEntry(
        title=_("Newsletter confirmed (double opt-in)"),
        detail=_("%(channel)s · %(source)s")
        % {"channel": _channel(event), "source": _source(event)},
        url=_proof_url(event),
        icon="mail",
    )


def _withdrawn(event) -> TimelineEntry:
    from treu.messaging.models import WithdrawalMethod

    method = event.payload.get("method", "")
    label = WithdrawalMethod(method).label if method in WithdrawalMethod.values else method
    return TimelineEntry(
        title=_("Unsubscribed from the newsletter"),
        detail=_("%(channel)s · %(method)s") % {"channel": _channel(event), "method": label},
        url=_proof_url(event),
        icon="mail",
    )


events.register_kind(
    CONSENT_REQUESTED, label=gettext_lazy("Newsletter sign-up requested"), describe=_requested
)
events.register_kind(
    CONSENT_CONFIRMED, label=gettext_lazy("Newsletter consent confirmed"), describe=_confirmed
)
events.register_kind(
    CONSENT_WITHDRAWN, label=gettext_lazy("Newsletter consent withdrawn"), describe=_withdrawn
)
