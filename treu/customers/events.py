"""Event kinds the customers app publishes, and how they read on the timeline."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core import events
from treu.core.events import TimelineEntry
from treu.customers.models import Customer, SourceChannel

CUSTOMER_CREATED = "customer.created"
CUSTOMER_UPDATED = "customer.updated"
CUSTOMER_MERGED = "customer.merged"
NOTE_ADDED = "customer.note_added"
# The customer's tags were set to another list (payload: the tag names now); for segments.
TAGS_CHANGED = "customer.tags_changed"


def _created(event) -> TimelineEntry:
    try:
        channel = str(SourceChannel(event.payload.get("source_channel")).label)
    except ValueError:
        channel = ""
    return TimelineEntry(title=_("Became a customer"), detail=channel, icon="star")


def _updated(event) -> TimelineEntry:
    fields = []
    for name in event.payload.get("fields") or []:
        try:
            fields.append(str(Customer._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:  # a field that no longer exists still shows its name
            fields.append(name)
    return TimelineEntry(title=_("Details changed"), detail=", ".join(fields), icon="edit")


def _merged(event) -> TimelineEntry:
    return TimelineEntry(
        title=_("Merged with a duplicate"),
        detail=_("%(number)s (%(email)s) was merged into this customer.")
        % {
            "number": event.payload.get("duplicate_number", "?"),
            "email": event.payload.get("duplicate_email") or _("no email"),
        },
        icon="merge",
    )


def _note(event) -> TimelineEntry:
    author = event.payload.get("author") or _("unknown")
    url = ""
    if event.customer_id:
        url = reverse("customers:detail", args=[event.customer_id]) + "#notes"
    return TimelineEntry(
        title=_("Note by %(author)s") % {"author": author},
        detail=event.payload.get("text", ""),
        url=url,
        icon="note",
    )


events.register_kind(CUSTOMER_CREATED, label=gettext_lazy("Customer created"), describe=_created)
events.register_kind(CUSTOMER_UPDATED, label=gettext_lazy("Customer updated"), describe=_updated)
events.register_kind(CUSTOMER_MERGED, label=gettext_lazy("Customers merged"), describe=_merged)
# A staff note is internal: it never leaves treu (no outbound webhook).
events.register_kind(NOTE_ADDED, label=gettext_lazy("Note added"), describe=_note, outbound=False)
# Tags are staff bookkeeping, not something that happened to the customer: off the timeline.
events.register_kind(
    TAGS_CHANGED, label=gettext_lazy("Tags changed"), on_timeline=False, outbound=False
)
