"""Every write to customer data goes through here, in a transaction, with its event."""

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
from django.db.models import ForeignObjectRel, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.bulk import (
    bulk_create_with_ids,
    combine_values,
    insert_rows,
    update_rows,
    update_values,
)
from treu.core.sequences import next_number, reserve_numbers
from treu.customers.events import CUSTOMER_CREATED, CUSTOMER_MERGED, CUSTOMER_UPDATED, NOTE_ADDED
from treu.customers.models import (
    Address,
    Customer,
    ExternalId,
    Note,
    SourceChannel,
    Tag,
    normalise_email,
)

log = logging.getLogger(__name__)

CUSTOMER_NUMBER_START = 10001
EDITABLE_FIELDS = ("first_name", "last_name", "email", "phone", "birthday", "language")


class CustomerError(ValidationError):
    """A customer write that was refused; carries German messages per field."""


def _clean_email(email: str | None, *, exclude_pk: int | None = None) -> str | None:
    email = normalise_email(email)
    if email is None:
        return None
    try:
        validate_email(email)
    except ValidationError:
        raise CustomerError({"email": _("Enter a valid email address.")}) from None
    clash = Customer.objects.filter(email=email)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise CustomerError({"email": _("A customer with this email address already exists.")})
    return email


@transaction.atomic
def create_customer(
    *,
    first_name: str = "",
    last_name: str = "",
    email: str | None = None,
    phone: str = "",
    birthday: date | None = None,
    language: str = "de",
    source_channel: str = SourceChannel.MANUAL,
    source_shop=None,
    occurred_at: datetime | None = None,
    event_source: str = "",
) -> Customer:
    email = _clean_email(email)
    if not (first_name.strip() or last_name.strip() or email):
        raise CustomerError(_("A customer needs at least a name or an email address."))
    customer = Customer(
        number=next_number("customer", start=CUSTOMER_NUMBER_START),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email,
        phone=phone.strip(),
        birthday=birthday,
        language=language,
        source_channel=source_channel,
        source_shop=source_shop,
    )
    try:
        customer.full_clean(exclude=["number", "email"])
    except ValidationError as exc:
        raise CustomerError(exc.message_dict) from None
    customer.save()
    events.publish(
        CUSTOMER_CREATED,
        customer=customer,
        payload={"source_channel": source_channel},
        source=event_source,
        occurred_at=occurred_at,
    )
    return customer


@transaction.atomic
def update_customer(customer: Customer, *, event_source: str = "", **changes: Any) -> list[str]:
    """Change editable fields; returns the names of the fields that really changed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable here: {sorted(unknown)}")
    if "email" in changes:
        changes["email"] = _clean_email(changes["email"], exclude_pk=customer.pk)
    changed = [name for name, value in changes.items() if getattr(customer, name) != value]
    if not changed:
        return []
    before = {name: getattr(customer, name) for name in changed}
    for name in changed:
        setattr(customer, name, changes[name])
    try:
        customer.full_clean(exclude=["number", "email"])
    except ValidationError as exc:
        for name, value in before.items():  # the caller's object stays as it was
            setattr(customer, name, value)
        raise CustomerError(exc.message_dict) from None
    customer.save(update_fields=[*changed, "updated_at"])
    events.publish(
        CUSTOMER_UPDATED, customer=customer, payload={"fields": changed}, source=event_source
    )
    return changed


@transaction.atomic
def add_note(customer: Customer, *, author, text: str) -> Note:
    text = text.strip()
    if not text:
        raise CustomerError({"text": _("The note is empty.")})
    note = Note.objects.create(customer=customer, author=author, text=text)
    author_name = (author.get_full_name() or author.get_username()) if author else ""
    events.publish(
        NOTE_ADDED,
        customer=customer,
        payload={"note_id": note.pk, "author": author_name, "text": text[:500]},
        source="backoffice",
    )
    return note


@transaction.atomic
def set_tags(customer: Customer, *, names: list[str]) -> None:
    tags = [Tag.objects.get_or_create(name=name.strip())[0] for name in names if name.strip()]
    customer.tags.set(tags)


@transaction.atomic
def add_address(customer: Customer, **fields: Any) -> Address:
    address = Address(customer=customer, **fields)
    address.full_clean()
    if address.is_default:
        customer.addresses.filter(kind=address.kind, is_default=True).update(is_default=False)
    address.save()
    return address


@transaction.atomic
def link_external_id(customer: Customer, *, shop, external_id: str) -> ExternalId:
    """Remember how a shop calls this customer; refuses ids already used for someone else."""
    link, created = ExternalId.objects.get_or_create(
        shop=shop, external_id=external_id, defaults={"customer": customer}
    )
    if not created and link.customer_id != customer.pk:
        raise CustomerError({"external_id": _("This shop id already belongs to another customer.")})
    return link


@dataclass(frozen=True)
class UpsertResult:
    customer: Customer
    created: bool
    changed: list[str]


@transaction.atomic
def upsert_customer(
    *,
    shop=None,
    external_id: str = "",
    email: str | None = None,
    source_channel: str = SourceChannel.API,
    event_source: str = "",
    occurred_at: datetime | None = None,
    **details: Any,
) -> UpsertResult:
    """Find the customer a shop means (by its id, then by email) and bring them up to date.

    Creates the customer when neither matches. Only the details given are
    changed (a shop that sends no phone number does not erase the one we have).
    The shop's id is linked to the customer, so its next call finds them directly.
    """
    unknown = set(details) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable here: {sorted(unknown)}")
    if external_id and shop is None:
        raise ValueError("An external id needs the shop it comes from.")
    customer = None
    if external_id:
        link = (
            ExternalId.objects.select_related("customer")
            .filter(shop=shop, external_id=external_id)
            .first()
        )
        customer = link.customer if link else None
    normalised = normalise_email(email)
    if customer is None and normalised:
        customer = Customer.objects.filter(email=normalised).first()
    if customer is None:
        customer = create_customer(
            email=normalised,
            source_channel=source_channel,
            source_shop=shop,
            occurred_at=occurred_at,
            event_source=event_source,
            **{k: v for k, v in details.items() if v not in (None, "")},
        )
        created, changed = True, []
    else:
        given = {k: v for k, v in details.items() if v not in (None, "")}
        if normalised and normalised != customer.email:
            given["email"] = normalised
        created = False
        changed = update_customer(customer, event_source=event_source, **given)
    if external_id:
        link_external_id(customer, shop=shop, external_id=external_id)
    return UpsertResult(customer=customer, created=created, changed=changed)


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


_SNAPSHOT_FIELDS = (*EDITABLE_FIELDS, "search_first_last", "search_last_first")


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
                wanted |= Q(shop_id=shop_id, external_id__in=external_ids)
            for link in ExternalId.objects.select_related("customer").filter(wanted):
                customer = known.setdefault(link.customer_id, link.customer)
                self.by_link[(link.shop_id, link.external_id)] = customer
        # Emails are unique: those of customers found by their shop id need no second look.
        emails -= {customer.email for customer in known.values()}
        if emails:
            for customer in Customer.objects.filter(email__in=emails):
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


@dataclass(frozen=True)
class OrderSummary:
    first_order_at: datetime | None
    last_order_at: datetime | None
    order_count: int
    total_spent_cents: int


def set_order_summaries(summaries: dict[int, OrderSummary]) -> None:
    """Store the order figures of many customers at once (one UPDATE, no model instances)."""
    if not summaries:
        return
    update_values(
        Customer,
        ["first_order_at", "last_order_at", "order_count", "total_spent_cents"],
        [
            (customer_id, s.first_order_at, s.last_order_at, s.order_count,
             max(s.total_spent_cents, 0))
            for customer_id, s in summaries.items()
        ],
    )  # fmt: skip


def add_to_order_summaries(additions: dict[int, OrderSummary]) -> None:
    """Add the figures of new orders to what is stored (earliest, latest, count, spent)."""
    combine_values(
        Customer,
        [
            ("first_order_at", "min"), ("last_order_at", "max"), ("order_count", "add"),
            ("total_spent_cents", "add"),
        ],
        [
            (customer_id, s.first_order_at, s.last_order_at, s.order_count, s.total_spent_cents)
            for customer_id, s in additions.items()
        ],
    )  # fmt: skip


def set_order_summary(
    customer_id: int,
    *,
    first_order_at: datetime | None,
    last_order_at: datetime | None,
    order_count: int,
    total_spent_cents: int,
) -> None:
    """Store the order figures commerce computed, so lists can filter and sort by them."""
    Customer.objects.filter(pk=customer_id).update(
        first_order_at=first_order_at,
        last_order_at=last_order_at,
        order_count=order_count,
        total_spent_cents=max(total_spent_cents, 0),
    )


@dataclass(frozen=True)
class MergeResult:
    survivor: Customer
    moved: dict[str, int]


# Per relation a way to move rows whose plain UPDATE would break a unique constraint.
_merge_handlers: dict[str, Any] = {}


def register_merge_handler(model_label: str, handler) -> None:
    """Let an app move its own rows on merge (e.g. one loyalty account per customer)."""
    _merge_handlers[model_label] = handler


def _move_through_rows(through, fk: str, *, survivor: Customer, duplicate: Customer) -> int:
    """Move many-to-many links, dropping those the survivor already has."""
    other = next(
        f.name
        for f in through._meta.get_fields()
        if getattr(f, "many_to_one", False) and f.name != fk
    )
    kept = through.objects.filter(**{fk: survivor.pk}).values_list(other, flat=True)
    through.objects.filter(**{fk: duplicate.pk, f"{other}__in": list(kept)}).delete()
    return through.objects.filter(**{fk: duplicate.pk}).update(**{fk: survivor.pk})


@transaction.atomic
def merge_customers(*, survivor: Customer, duplicate: Customer, by=None) -> MergeResult:
    """Fold a duplicate (the same person from another shop) into the survivor and delete it.

    Every row in any app that points at the duplicate is moved, whoever owns
    it; blank fields of the survivor are filled from the duplicate.
    """
    if survivor.pk == duplicate.pk:
        raise CustomerError(_("A customer cannot be merged with itself."))
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
    }
    if len(locked) != 2:
        raise CustomerError(_("One of the two customers no longer exists."))
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]

    moved: dict[str, int] = {}
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel) or rel.many_to_many:
            continue  # a many-to-many shows up again as its through table's foreign key
        model, fk = rel.related_model, rel.field.name
        label = model._meta.label
        if label in _merge_handlers:
            moved[label] = _merge_handlers[label](survivor=survivor, duplicate=duplicate)
        elif model._meta.auto_created:
            moved[label] = _move_through_rows(model, fk, survivor=survivor, duplicate=duplicate)
        else:
            rows = model._base_manager.filter(**{fk: duplicate.pk})
            moved[label] = rows.update(**{fk: survivor.pk})

    filled = []
    for name in ("first_name", "last_name", "phone", "birthday"):
        if not getattr(survivor, name) and getattr(duplicate, name):
            setattr(survivor, name, getattr(duplicate, name))
            filled.append(name)
    duplicate_number, duplicate_email = duplicate.display_number, duplicate.email
    if duplicate.created_at < survivor.created_at:
        survivor.created_at = duplicate.created_at
        filled.append("created_at")
    duplicate.delete()
    if not survivor.email and duplicate_email:
        survivor.email = duplicate_email
        filled.append("email")
    survivor.save()

    events.publish(
        CUSTOMER_MERGED,
        customer=survivor,
        payload={
            "duplicate_number": duplicate_number,
            "duplicate_email": duplicate_email or "",
            "moved": {k: v for k, v in moved.items() if v},
            "by": by.get_username() if by else "",
        },
        source="backoffice",
    )
    return MergeResult(survivor=survivor, moved=moved)
