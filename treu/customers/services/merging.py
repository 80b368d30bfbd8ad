"""Merging two customers, and the hook for apps whose rows need care when they move."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import ForeignObjectRel
from django.utils.translation import gettext as _

from treu.core import events
from treu.customers.events import CUSTOMER_MERGED
from treu.customers.models import Customer
from treu.customers.services.customer import CustomerError


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
            if name == "birthday":  # entered when the duplicate's was
                survivor.birthday_entered_at = duplicate.birthday_entered_at
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
