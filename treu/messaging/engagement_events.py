"""Event kinds of opens and clicks: the engagement segment rule listens to them, so a
click moves its customer into "clicked within 30 days" within seconds.

Payload: `message_id` (the outbox row), `key` (what the mail was for, e.g.
`campaign:7:customer:42`); clicks add `url`. Internal only (no outbound webhooks); clicks
show on the customer timeline, opens do not (mail programs load images by themselves).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core import events
from treu.core.events import TimelineEntry

MESSAGE_OPENED = "message.opened"
MESSAGE_CLICKED = "message.clicked"


def _clicked(event) -> TimelineEntry:
    return TimelineEntry(
        title=_("Clicked a link in a mail"),
        detail=str(event.payload.get("url", ""))[:200],
        url="",
        icon="mail",
    )


events.register_kind(
    MESSAGE_OPENED, label=gettext_lazy("Mail opened"), on_timeline=False, outbound=False
)
events.register_kind(
    MESSAGE_CLICKED,
    label=gettext_lazy("Link in a mail clicked"),
    describe=_clicked,
    icon="mail",
    outbound=False,
)
