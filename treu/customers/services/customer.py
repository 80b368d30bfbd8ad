"""Writes to one customer: creating, updating, notes, tags, addresses, shop ids, upserting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.sequences import next_number
from treu.customers.events import CUSTOMER_CREATED, CUSTOMER_UPDATED, NOTE_ADDED, TAGS_CHANGED
from treu.customers.models import (
    Address,
    Customer,
    ExternalId,
    Note,
    SourceChannel,
    Tag,
    normalise_email,
)

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
        birthday_entered_at=timezone.now() if birthday else None,
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
    stored = [*changed, "updated_at"]
    if "birthday" in changed:
        customer.birthday_entered_at = timezone.now() if customer.birthday else None
        stored.append("birthday_entered_at")
    customer.save(update_fields=stored)
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
    before = set(customer.tags.values_list("pk", flat=True))
    customer.tags.set(tags)
    if before != {tag.pk for tag in tags}:  # segments with tag rules listen
        events.publish(TAGS_CHANGED, customer=customer, payload={"tags": [t.name for t in tags]})


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


@transaction.atomic
def add_tag_to_customers(*, customer_ids: list[int], name: str) -> set[int]:
    """Give these customers one more tag (created if new); returns those who did not have it.

    Set-based for an automation's batch: three queries and one event per changed customer.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"tag": [_("Enter the tag's name.")]})
    tag = Tag.objects.get_or_create(name=name[:64])[0]
    links = Customer.tags.through.objects
    ids = set(Customer.objects.filter(pk__in=list(customer_ids)).values_list("pk", flat=True))
    ids -= set(
        links.filter(tag=tag, customer_id__in=list(ids)).values_list("customer_id", flat=True)
    )
    links.bulk_create([links.model(customer_id=pk, tag=tag) for pk in sorted(ids)])
    names: dict[int, list[str]] = {pk: [] for pk in ids}
    for pk, tag_name in links.filter(customer_id__in=list(ids)).values_list(
        "customer_id", "tag__name"
    ):
        names[pk].append(tag_name)
    events.publish_many(
        events.NewEvent(kind=TAGS_CHANGED, customer_id=pk, payload={"tags": sorted(tags)})
        for pk, tags in sorted(names.items())
    )
    return ids
