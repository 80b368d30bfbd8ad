"""Reads of customer data: lists, search and the 360° timeline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from treu.core import events
from treu.core.events import TimelineEntry
from treu.core.models import DomainEvent
from treu.customers.models import Address, Customer, Note, Tag, fold, normalise_email

NUMBER_PREFIXES = ("k", "#")


def customer_number_in(text: str) -> int | None:
    """The customer number a person typed: "42", "#42", "K000042"; None if it is none."""
    digits = text.strip().lower().lstrip("".join(NUMBER_PREFIXES)).lstrip("0")
    return int(digits) if digits.isdigit() else None


@dataclass(frozen=True)
class CustomerFilters:
    query: str = ""
    source_channel: str = ""
    tag: str = ""
    buyer: str = ""  # "none", "once", "repeat"
    last_order_after: datetime | None = None
    last_order_before: datetime | None = None
    ordering: str = "-created"


ORDERINGS = {
    "-created": ("-created_at", "-id"),
    "name": ("last_name", "first_name", "id"),
    "-last_order": ("-last_order_at", "-id"),
    "-spent": ("-total_spent_cents", "-id"),
    "-orders": ("-order_count", "-id"),
}


def _search(qs: QuerySet[Customer], query: str) -> QuerySet[Customer]:
    """Prefix search on indexed columns: number, email or name, so it stays fast at 100k+."""
    query = query.strip()
    if not query:
        return qs
    number = customer_number_in(query)
    if number is not None:
        return qs.filter(number=number)
    if "@" in query or ("." in query and " " not in query):  # looks like (part of) an address
        return qs.filter(email__startswith=normalise_email(query))
    key = fold(query)
    return qs.filter(Q(search_first_last__startswith=key) | Q(search_last_first__startswith=key))


def customer_list(filters: CustomerFilters) -> QuerySet[Customer]:
    qs = Customer.objects.filter(erased_at__isnull=True)
    qs = _search(qs, filters.query)
    if filters.source_channel:
        qs = qs.filter(source_channel=filters.source_channel)
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.buyer == "none":
        qs = qs.filter(order_count=0)
    elif filters.buyer == "once":
        qs = qs.filter(order_count=1)
    elif filters.buyer == "repeat":
        qs = qs.filter(order_count__gte=2)
    if filters.last_order_after:
        qs = qs.filter(last_order_at__gte=filters.last_order_after)
    if filters.last_order_before:
        qs = qs.filter(last_order_at__lt=filters.last_order_before)
    ordering = filters.ordering
    if filters.query.strip() and ordering == "-created":
        # Search hits read best alphabetically; and with newest-first PostgreSQL walks the
        # whole created_at index looking for the few matches instead of using the prefix index.
        ordering = "name"
    return qs.order_by(*ORDERINGS.get(ordering, ORDERINGS["-created"]))


def customer_detail(customer_id: int) -> Customer:
    return (
        Customer.objects.select_related("source_shop")
        .prefetch_related("tags", "addresses", "external_ids__shop")
        .get(pk=customer_id)
    )


def customer_by_number(number: int) -> Customer | None:
    """A customer who has not been erased, by customer number."""
    return Customer.objects.filter(number=number, erased_at__isnull=True).first()


def customer_notes(customer: Customer, *, limit: int = 50) -> list[Note]:
    return list(customer.notes.select_related("author")[:limit])


def customer_by_id(customer_id: int) -> Customer | None:
    return Customer.objects.filter(pk=customer_id).first()


def existing_customer_ids(customer_ids: Iterable[int]) -> set[int]:
    """Which of these ids belong to a customer (one query; for checking a batch's references)."""
    ids = set(customer_ids)
    if not ids:
        return set()
    return set(Customer.objects.filter(pk__any_of=ids).values_list("pk", flat=True))


def erased_customer_ids() -> QuerySet:
    """Ids of erased (anonymised) customers, as a subquery: analytics leaves their purchase
    history out of anything that concerns a person."""
    return Customer.objects.filter(erased_at__isnull=False).values("pk")


def customer_by_email(email: str) -> Customer | None:
    normalised = normalise_email(email)
    return Customer.objects.filter(email=normalised).first() if normalised else None


def customer_by_external_id(*, shop_code: str, external_id: str) -> Customer | None:
    """A customer who has not been erased, by the id a shop (given by its code) knows them by."""
    return Customer.objects.filter(
        external_ids__shop__code=shop_code,
        external_ids__external_id=external_id,
        erased_at__isnull=True,
    ).first()


@dataclass(frozen=True)
class TimelineItem:
    event: DomainEvent
    entry: TimelineEntry


def customer_timeline(
    customer: Customer, *, before_id: int | None = None, limit: int = 50
) -> list[TimelineItem]:
    """Newest first; entries come from whatever app registered the event kind."""
    visible = [name for name, k in events.kinds().items() if k.on_timeline]
    qs = DomainEvent.objects.filter(customer=customer, kind__in=visible).order_by(
        "-occurred_at", "-id"
    )
    if before_id is not None:
        anchor = DomainEvent.objects.filter(pk=before_id, customer=customer).first()
        if anchor is not None:
            qs = qs.filter(
                Q(occurred_at__lt=anchor.occurred_at)
                | Q(occurred_at=anchor.occurred_at, id__lt=anchor.pk)
            )
    return [TimelineItem(event=e, entry=events.describe(e)) for e in qs[:limit]]


def possible_duplicates(customer: Customer, *, limit: int = 5) -> QuerySet[Customer]:
    """Other customers with the same folded name, a candidate list for merging."""
    if not customer.search_first_last:
        return Customer.objects.none()
    return (
        Customer.objects.filter(
            search_first_last=customer.search_first_last, erased_at__isnull=True
        )
        .exclude(pk=customer.pk)
        .order_by("number")[:limit]
    )


@dataclass(frozen=True)
class CustomerBase:
    total: int
    new: int
    buyers: int
    repeat: int

    @property
    def repeat_rate(self) -> float | None:
        """Stammkundenquote: of those who bought at all, the share who bought twice or more."""
        return self.repeat / self.buyers if self.buyers else None


def customer_base(*, new_since: datetime) -> CustomerBase:
    """Head counts from the order summary on the customer row: one indexed aggregate."""
    counts = Customer.objects.filter(erased_at__isnull=True).aggregate(
        total=Count("id"),
        new=Count("id", filter=Q(created_at__gte=new_since)),
        buyers=Count("id", filter=Q(order_count__gte=1)),
        repeat=Count("id", filter=Q(order_count__gte=2)),
    )
    return CustomerBase(**counts)


# -- For segments (messaging) ------------------------------------------------------------------
# Each takes `customer`: an id, or OuterRef("pk") when the caller wraps it in an Exists over
# customers (one set-based query, never a loop over customers).


def segmentable_customers() -> QuerySet[Customer]:
    """Every customer a segment may hold: all but the erased."""
    return Customer.objects.filter(erased_at__isnull=True)


def tag_links(*, customer, tag_ids: Iterable[int]) -> QuerySet:
    """The customer's links to any of these tags (rows of the customer–tag table)."""
    return Customer.tags.through.objects.filter(customer_id=customer, tag_id__in=list(tag_ids))


def addresses_matching(*, customer, postcode_prefix: str = "", city: str = "") -> QuerySet:
    """The customer's addresses with a postcode starting so, or in that city (any case)."""
    qs = Address.objects.filter(customer_id=customer)
    if postcode_prefix:
        qs = qs.filter(postcode__startswith=postcode_prefix)
    if city:
        qs = qs.filter(city__iexact=city)
    return qs


def all_tags() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


@dataclass(frozen=True)
class Contact:
    email: str
    language: str
    country: str  # of the default address ("" when there is none)


def contacts(customer_ids: Iterable[int]) -> dict[int, Contact]:
    """Address, language and country of these customers (erased ones and those without an
    email address are left out); two queries whatever the number."""
    ids = list(dict.fromkeys(int(i) for i in customer_ids))
    rows = (
        segmentable_customers()
        .filter(pk__any_of=ids, email__isnull=False)
        .exclude(email="")
        .values_list("pk", "email", "language")
        .order_by()
    )
    found = {pk: [email, language or "de", ""] for pk, email, language in rows}
    if found:
        countries = (
            Address.objects.filter(customer_id__any_of=list(found))
            .order_by("customer_id", "-is_default", "id")
            .values_list("customer_id", "country")
        )
        for customer_id, country in countries:
            if not found[customer_id][2]:
                found[customer_id][2] = (country or "").upper()
    return {pk: Contact(*values) for pk, values in found.items()}


def customer_ids_with_birthday_on(day) -> QuerySet:
    """Customers whose birthday falls on this day (29 February on 28 February in other years)."""
    condition = Q(birthday__month=day.month, birthday__day=day.day)
    if (day.month, day.day) == (2, 28) and not _leap(day.year):
        condition |= Q(birthday__month=2, birthday__day=29)
    return segmentable_customers().filter(condition).values("pk")


def customer_ids_with_first_order_anniversary_on(day) -> QuerySet:
    """Customers whose first order (Berlin day) was on this month and day of an earlier year."""
    condition = Q(first_order_at__month=day.month, first_order_at__day=day.day)
    if (day.month, day.day) == (2, 28) and not _leap(day.year):
        condition |= Q(first_order_at__month=2, first_order_at__day=29)
    return segmentable_customers().filter(condition, first_order_at__year__lt=day.year).values("pk")


def first_time_buyer_ids(customer_ids: Iterable[int]) -> set[int]:
    """Of these customers, those with exactly one order."""
    return set(
        segmentable_customers()
        .filter(pk__any_of=list(customer_ids), order_count=1)
        .values_list("pk", flat=True)
    )


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
