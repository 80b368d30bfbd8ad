"""Upserting many customers at once, set-based, with the same outcome as `upsert_customer`."""

from __future__ import annotations

import copy
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.bulk import bulk_create_with_ids, insert_rows, update_rows
from treu.core.sequences import reserve_numbers
from treu.customers.events import CUSTOMER_CREATED, CUSTOMER_UPDATED
from treu.customers.models import Customer, ExternalId, SourceChannel, normalise_email
from treu.customers.services.customer import (
    CUSTOMER_NUMBER_START,
    EDITABLE_FIELDS,
    CustomerError,
    UpsertResult,
    upsert_customer,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomerInput:
    """One customer as a shop, file or API call describes them."""

    shop: Any = None
    external_id: str = ""
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    birthday: date | None = None
    language: str = ""
    source_channel: str = SourceChannel.API
    occurred_at: datetime | None = None


def upsert_customers(
    batch: list[CustomerInput], *, event_source: str = ""
) -> list[UpsertResult | CustomerError]:
    """Upsert many customers; the answer lists, in input order, each result or refusal.

    A refused customer writes nothing and does not stop the others. Each item means
    exactly what `upsert_customer` would make of it, in order: a later item sees what
    an earlier one created or changed (the same email twice is one customer). The work
    is set-based: one query for the shop ids, one for the emails, then bulk writes.
    """
    for item in batch:
        if item.external_id and item.shop is None:
            raise ValueError("An external id needs the shop it comes from.")
    if not batch:
        return []
    try:
        with transaction.atomic():
            return _CustomerBatch(event_source=event_source).run(batch)
    except IntegrityError:
        # Someone else wrote one of these customers meanwhile (same email or shop id):
        # the batch rolled back; the careful path sees their row and does the right thing.
        log.warning("Customer batch collided with a concurrent write; retrying one by one.")
        return _upsert_customers_one_by_one(batch, event_source=event_source)


def _details(item: CustomerInput) -> dict[str, Any]:
    return {
        "first_name": item.first_name,
        "last_name": item.last_name,
        "phone": item.phone,
        "birthday": item.birthday,
        "language": item.language,
    }


def _upsert_customers_one_by_one(
    batch: list[CustomerInput], *, event_source: str = ""
) -> list[UpsertResult | CustomerError]:
    """The reference meaning of a batch: `upsert_customer` per item, each in its own transaction."""
    results: list[UpsertResult | CustomerError] = []
    for item in batch:
        try:
            with transaction.atomic():
                results.append(
                    upsert_customer(
                        shop=item.shop,
                        external_id=item.external_id,
                        email=item.email,
                        source_channel=item.source_channel,
                        occurred_at=item.occurred_at,
                        event_source=event_source,
                        **_details(item),
                    )
                )
        except CustomerError as refused:
            results.append(refused)
    return results


_SNAPSHOT_FIELDS = (
    *EDITABLE_FIELDS, "birthday_entered_at", "search_first_last", "search_last_first",
)  # fmt: skip


def _valid_email_or_refuse(email: str) -> str:
    try:
        validate_email(email)
    except ValidationError:
        raise CustomerError({"email": _("Enter a valid email address.")}) from None
    return email


def _clean_in_memory(customer: Customer) -> None:
    # What create_customer/update_customer's full_clean checks, minus its queries: number and
    # email are checked by the caller, the shop exists, and the table's CHECKs (lower-case
    # email, spent >= 0) cannot be broken by the fields an upsert sets.
    try:
        customer.full_clean(
            exclude=["number", "email", "source_shop"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        raise CustomerError(exc.message_dict) from None


class _CustomerBatch:
    """Replays upsert_customer item by item against an in-memory picture of the rows it
    touches (loaded in two queries), collecting the writes to do them in bulk at the end."""

    def __init__(self, *, event_source: str) -> None:
        self.event_source = event_source
        self.by_link: dict[tuple[int, str], Customer] = {}
        self.by_email: dict[str, Customer] = {}
        self.created: list[Customer] = []
        self.dirty: dict[int, Customer] = {}
        self.email_moved: set[int] = set()
        self.links: list[tuple[Customer, int, str]] = []  # (customer, shop id, id in that shop)
        # (kind, customer, payload, occurred_at): new customers get their id only when written.
        self.events: list[tuple[str, Customer, dict, datetime | None]] = []

    def run(self, batch: list[CustomerInput]) -> list[UpsertResult | CustomerError]:
        self._load(batch)
        outcomes: list[tuple[Customer, bool, list[str], dict] | CustomerError] = []
        for item in batch:
            try:
                outcomes.append(self._upsert(item))
            except CustomerError as refused:
                outcomes.append(refused)
        self._write()
        return self._results(outcomes)

    def _load(self, batch: list[CustomerInput]) -> None:
        ids_by_shop: dict[int, set[str]] = defaultdict(set)
        for item in batch:
            if item.external_id:
                ids_by_shop[item.shop.pk].add(item.external_id)
        emails = {e for item in batch if (e := normalise_email(item.email))}
        known: dict[int, Customer] = {}
        if ids_by_shop:
            wanted = Q()
            for shop_id, external_ids in ids_by_shop.items():
                wanted |= Q(shop_id=shop_id, external_id__any_of=external_ids)
            for link in ExternalId.objects.select_related("customer").filter(wanted):
                customer = known.setdefault(link.customer_id, link.customer)
                self.by_link[(link.shop_id, link.external_id)] = customer
        # Emails are unique: those of customers found by their shop id need no second look.
        emails -= {customer.email for customer in known.values()}
        if emails:
            for customer in Customer.objects.filter(email__any_of=emails):
                known.setdefault(customer.pk, customer)
        for customer in known.values():
            if customer.email:
                self.by_email[customer.email] = customer

    def _upsert(self, item: CustomerInput) -> tuple[Customer, bool, list[str], dict]:
        given = {k: v for k, v in _details(item).items() if v not in (None, "")}
        link_key = (item.shop.pk, item.external_id) if item.external_id else None
        customer = self.by_link.get(link_key) if link_key else None
        normalised = normalise_email(item.email)
        if customer is None and normalised:
            customer = self.by_email.get(normalised)
        if customer is None:
            customer, created, changed = self._create(item, normalised, given), True, []
        else:
            if normalised and normalised != customer.email:
                given["email"] = normalised
            customer, created, changed = customer, False, self._update(customer, given)
        if link_key and link_key not in self.by_link:
            self.by_link[link_key] = customer
            self.links.append((customer, item.shop.pk, item.external_id))
        return customer, created, changed, {f: getattr(customer, f) for f in _SNAPSHOT_FIELDS}

    def _create(self, item: CustomerInput, email: str | None, given: dict) -> Customer:
        if email is not None:
            _valid_email_or_refuse(email)  # a clash is impossible: it would have matched
        first_name, last_name = given.get("first_name", ""), given.get("last_name", "")
        if not (first_name.strip() or last_name.strip() or email):
            raise CustomerError(_("A customer needs at least a name or an email address."))
        customer = Customer(
            number=0,  # reserved for the whole batch when it is written
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email,
            phone=given.get("phone", "").strip(),
            birthday=given.get("birthday"),
            birthday_entered_at=timezone.now() if given.get("birthday") else None,
            language=given.get("language", "de"),
            source_channel=item.source_channel,
            source_shop=item.shop,
        )
        _clean_in_memory(customer)
        customer.refresh_search_keys()
        self.created.append(customer)
        if email:
            self.by_email[email] = customer
        self.events.append(
            (CUSTOMER_CREATED, customer, {"source_channel": item.source_channel}, item.occurred_at)
        )
        return customer

    def _update(self, customer: Customer, changes: dict[str, Any]) -> list[str]:
        if "email" in changes:
            email = _valid_email_or_refuse(changes["email"])
            holder = self.by_email.get(email)
            if holder is not None and holder is not customer:
                raise CustomerError(
                    {"email": _("A customer with this email address already exists.")}
                )
        changed = [name for name, value in changes.items() if getattr(customer, name) != value]
        if not changed:
            return []
        before = {name: getattr(customer, name) for name in changed}
        for name in changed:
            setattr(customer, name, changes[name])
        try:
            _clean_in_memory(customer)
        except CustomerError:
            for name, value in before.items():
                setattr(customer, name, value)
            raise
        if "birthday" in changed:
            customer.birthday_entered_at = timezone.now() if customer.birthday else None
        if "email" in changed:
            if before["email"] and self.by_email.get(before["email"]) is customer:
                del self.by_email[before["email"]]
            self.by_email[customer.email] = customer
        customer.refresh_search_keys()
        if customer.pk is not None:
            self.dirty[customer.pk] = customer
            if "email" in changed:
                self.email_moved.add(customer.pk)
        self.events.append((CUSTOMER_UPDATED, customer, {"fields": changed}, None))
        return changed

    def _write(self) -> None:
        # Updates before inserts, and emails that moved cleared first: the unique email
        # index is checked row by row, so a batch that passes an address from one customer
        # to another (or to a new one) must never hold it twice in between.
        if self.email_moved:
            Customer.objects.filter(pk__in=self.email_moved).update(email=None)
        if self.dirty:
            now = timezone.now()
            for customer in self.dirty.values():
                customer.updated_at = now
            update_rows(Customer, list(self.dirty.values()), [*_SNAPSHOT_FIELDS, "updated_at"])
        if self.created:
            first = reserve_numbers("customer", len(self.created), start=CUSTOMER_NUMBER_START)
            for offset, customer in enumerate(self.created):
                customer.number = first + offset
            bulk_create_with_ids(Customer, self.created)
        if self.links:
            now = timezone.now()
            insert_rows(
                ExternalId,
                ("customer_id", "shop_id", "external_id", "created_at"),
                [
                    (customer.pk, shop_id, external_id, now)
                    for customer, shop_id, external_id in self.links
                ],
                return_ids=False,
            )
        events.publish_many(
            events.NewEvent(kind, customer.pk, payload, self.event_source, occurred_at)
            for kind, customer, payload, occurred_at in self.events
        )

    @staticmethod
    def _results(outcomes) -> list[UpsertResult | CustomerError]:
        seen = Counter(id(o[0]) for o in outcomes if not isinstance(o, CustomerError))
        results: list[UpsertResult | CustomerError] = []
        for outcome in outcomes:
            if isinstance(outcome, CustomerError):
                results.append(outcome)
                continue
            customer, created, changed, snapshot = outcome
            if seen[id(customer)] > 1:
                # Several items of the batch touched this customer: like the one-by-one
                # path, each result shows the customer as that item left them.
                customer = copy.copy(customer)
                for name, value in snapshot.items():
                    setattr(customer, name, value)
            results.append(UpsertResult(customer=customer, created=created, changed=changed))
        return results
