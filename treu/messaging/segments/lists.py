"""Fixed customer lists: the customers behind a figure, kept as they were, for segments.

The dashboard's drill-down lists (analytics) are answers for a period — "lost in the
second quarter" — that no rule over today's data can repeat. `segment_from_customers`
stores such a list in one `INSERT … SELECT` and makes a segment with the single rule "in
the list", which the owner can then narrow like any other (consent, tier, …).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core import privacy
from treu.messaging.models import CustomerList, CustomerListEntry, Segment
from treu.messaging.segments import fields
from treu.messaging.segments.services import save_segment


def _in_list(op: str, values: list, ctx: fields.RuleContext) -> Q:
    found = Exists(
        CustomerListEntry.objects.filter(
            customer_list_id__in=[int(v) for v in values], customer_id=OuterRef("pk")
        )
    )
    return Q(found) if op == fields.IN else ~Q(found)


def register() -> None:
    fields.register_field(
        fields.RuleField(
            "customer_list", gettext_lazy("In the customer list"), gettext_lazy("Lists"),
            fields.CHOICE, _in_list, order=90,
            choices=lambda: CustomerList.objects.order_by("-created_at").values_list(
                "pk", "name"
            ),
            help_text=gettext_lazy(
                "A fixed list, e.g. the customers behind a figure on the dashboard."
            ),
        )
    )  # fmt: skip
    privacy.register(
        CustomerListEntry,
        customer="customer",
        fields=["customer_list__name", "customer_list__created_at"],
        erasure=privacy.Erasure.DELETE,
    )
    privacy.not_personal(CustomerList, reason="a named list; its entries are the personal part")


def move_list_entries(*, survivor, duplicate) -> int:
    """Merge handler: the duplicate's places in lists go to the survivor (once per list)."""
    taken = CustomerListEntry.objects.filter(customer_id=survivor.pk).values("customer_list_id")
    CustomerListEntry.objects.filter(customer_id=duplicate.pk, customer_list_id__in=taken).delete()
    return CustomerListEntry.objects.filter(customer_id=duplicate.pk).update(
        customer_id=survivor.pk
    )


@transaction.atomic
def segment_from_customers(
    *,
    name: str,
    customers: QuerySet,
    field: str = "customer_id",
    source: str = "",
    by=None,
    now: datetime | None = None,
) -> Segment:
    """A segment of exactly the customers `field` names in the rows of `customers` (e.g. a
    drill-down's figures), stored as a list in one statement; SegmentError (German) if the
    name is taken or empty, and then nothing is written."""
    now = now or timezone.now()
    name = " ".join(name.split())[:100]
    customer_list = CustomerList.objects.create(
        name=name or _("List"), source=source[:500], created_at=now, created_by=by
    )
    ids = customers.order_by().values(listed=F(field))
    ids_sql, params = ids.query.sql_with_params()
    table = CustomerListEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (customer_list_id, customer_id) "  # noqa: S608
            f"SELECT DISTINCT %s, ids.listed FROM ({ids_sql}) AS ids "
            "WHERE ids.listed IS NOT NULL",
            (customer_list.pk, *params),
        )
    customer_list.size = CustomerListEntry.objects.filter(customer_list=customer_list).count()
    customer_list.save(update_fields=["size"])
    return save_segment(
        name=name,
        description=_("Fixed list of %(n)s customers, taken on %(day)s.")
        % {"n": customer_list.size, "day": timezone.localdate(now).strftime("%d.%m.%Y")},
        rules_tree={
            "version": 1,
            "match": "all",
            "groups": [
                {
                    "match": "all",
                    "conditions": [
                        {"field": "customer_list", "op": "in", "value": [customer_list.pk]}
                    ],
                }
            ],
        },
        by=by,
    )
