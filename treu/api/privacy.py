"""How the API app's data is exported and erased (see treu.core.privacy)."""

from __future__ import annotations

from django.db.models import Q

from treu.api.models import ApiKey, IdempotencyRecord
from treu.core import privacy


def _records_of(customer):
    """Stored answers that name the customer: by email, or by customer number in the JSON."""
    match = Q(response_body__regex=rf'"(customer_)?number": {int(customer.number)}[,}}]')
    if customer.email:
        match |= Q(response_body__icontains=customer.email)
    return IdempotencyRecord.objects.filter(match)


def _export(customer) -> list[dict]:
    return [
        {"created_at": r.created_at.isoformat(), "request": f"{r.method} {r.path}"}
        for r in _records_of(customer).only("created_at", "method", "path")
    ]


def _erase(customer) -> int:
    return _records_of(customer).delete()[0]


privacy.register(
    IdempotencyRecord,
    customer="key",  # not a customer relation; export and erasure search the stored answers
    fields=["created_at", "method", "path"],
    erasure=privacy.Erasure.DELETE,
    exporter=_export,
    eraser=_erase,
    retention=(
        "Gespeicherte API-Antworten (Idempotenz) werden nach 24 Stunden gelöscht, "
        "bei Löschung der Kundin sofort."
    ),
)
privacy.not_personal(ApiKey, reason="A key's name labels a shop system, not a person.")
