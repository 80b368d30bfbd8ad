"""The privacy registry: every model holding personal data says how to export and erase it.

Registration sits next to the model (in its app's `privacy.py`), so adding a
model with a name, email or free text without saying how it leaves the system
fails the test suite (`test_every_personal_model_is_registered`). The
data-subject-request workflow is built on `export_customer` and
`erase_customer`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.db import models, transaction


class Erasure(StrEnum):
    DELETE = "delete"  # rows go
    ANONYMISE = "anonymise"  # rows stay (figures, legal retention), personal fields are blanked
    KEEP = "keep"  # kept under a legal retention duty; holds no personal fields of its own


@dataclass(frozen=True)
class Registration:
    model: type[models.Model]
    customer_path: str
    fields: tuple[str, ...]
    erasure: Erasure
    anonymise: dict[str, Any] = field(default_factory=dict)
    retention: str = ""
    exporter: Callable[[Any], list[dict[str, Any]]] | None = None
    eraser: Callable[[Any], int] | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label

    def rows_of(self, customer) -> models.QuerySet:
        lookup = "pk" if self.customer_path == "self" else self.customer_path
        return self.model._default_manager.filter(**{lookup: customer.pk})


_registry: dict[str, Registration] = {}
_not_personal: dict[str, str] = {}

# Field names (split at "_") that suggest a person: names, contact data,
# birthdays, network addresses, and free text someone wrote about someone.
PERSONAL_TOKENS = frozenset(
    {
        "name", "email", "phone", "mobile", "street", "address", "postcode", "zip", "city",
        "birthday", "birthdate", "ip", "note", "notes", "comment", "message", "text", "body",
        "payload", "to", "recipient", "iban",
    }
)  # fmt: skip


def register(
    model: type[models.Model],
    *,
    customer: str,
    fields: Iterable[str],
    erasure: Erasure,
    anonymise: dict[str, Any] | None = None,
    retention: str = "",
    exporter: Callable[[Any], list[dict[str, Any]]] | None = None,
    eraser: Callable[[Any], int] | None = None,
) -> None:
    """Declare a model's personal data.

    `customer` is the lookup from the model to Customer ("customer",
    "order__customer", or "self" for Customer itself). `fields` are exported.
    """
    if erasure is Erasure.ANONYMISE and not anonymise and eraser is None:
        raise ValueError(f"{model._meta.label}: anonymising needs the fields to blank.")
    _registry[model._meta.label] = Registration(
        model=model,
        customer_path=customer,
        fields=tuple(fields),
        erasure=erasure,
        anonymise=anonymise or {},
        retention=retention,
        exporter=exporter,
        eraser=eraser,
    )


def not_personal(model: type[models.Model], *, reason: str) -> None:
    """Declare that a model's person-sounding fields are not about a person (e.g. product names)."""
    _not_personal[model._meta.label] = reason


def registrations() -> list[Registration]:
    return list(_registry.values())


def registration_for(model: type[models.Model]) -> Registration | None:
    return _registry.get(model._meta.label)


def personal_fields(model: type[models.Model]) -> list[str]:
    found = []
    for f in model._meta.get_fields():
        if not getattr(f, "concrete", False) or f.auto_created:
            continue
        tokens = set(re.split(r"[_\d]+", f.name.lower()))
        if tokens & PERSONAL_TOKENS or isinstance(f, models.GenericIPAddressField):
            found.append(f.name)
    return found


def unregistered_personal_models(app_prefix: str = "treu.") -> list[tuple[str, list[str]]]:
    missing = []
    for model in apps.get_models():
        if not model.__module__.startswith(app_prefix):
            continue
        label = model._meta.label
        if label in _registry or label in _not_personal:
            continue
        suspicious = personal_fields(model)
        if suspicious:
            missing.append((label, suspicious))
    return missing


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | bool | float) or value is None:
        return value
    if isinstance(value, dict | list):
        return value
    return str(value)


def export_customer(customer) -> dict[str, list[dict[str, Any]]]:
    """Everything treu holds about one customer, per model, as plain JSON-ready data."""
    result: dict[str, list[dict[str, Any]]] = {}
    for reg in _registry.values():
        raw = reg.exporter(customer) if reg.exporter else reg.rows_of(customer).values(*reg.fields)
        rows = [{name: _plain(value) for name, value in row.items()} for row in raw]
        if rows:
            result[reg.label] = rows
    return result


@transaction.atomic
def erase_customer(customer) -> dict[str, int]:
    """Erase or anonymise one customer's data in every registered model; returns rows touched.

    The Customer row itself is handled last so the lookups of the others still work.
    """
    touched: dict[str, int] = {}
    ordered = sorted(_registry.values(), key=lambda r: r.customer_path == "self")
    for reg in ordered:
        if reg.eraser is not None:
            touched[reg.label] = reg.eraser(customer)
        elif reg.erasure is Erasure.DELETE:
            touched[reg.label] = reg.rows_of(customer).delete()[0]
        elif reg.erasure is Erasure.ANONYMISE:
            values = {k: (v() if callable(v) else v) for k, v in reg.anonymise.items()}
            touched[reg.label] = reg.rows_of(customer).update(**values)
        else:
            touched[reg.label] = 0
    return touched
