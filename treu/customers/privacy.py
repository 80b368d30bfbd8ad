"""How customer data is exported and erased (see treu.core.privacy)."""

from __future__ import annotations

from django.utils import timezone

from treu.core import privacy
from treu.customers.models import Address, Customer, ExternalId, Note, Tag


def _anonymise_customer(customer: Customer) -> int:
    # The row stays, so orders kept for the tax office still add up; nothing in it names the person.
    customer.tags.clear()
    return Customer.objects.filter(pk=customer.pk).update(
        first_name="",
        last_name="",
        email=None,
        phone="",
        birthday=None,
        birthday_entered_at=None,
        search_first_last="",
        search_last_first="",
        erased_at=timezone.now(),
    )


privacy.register(
    Customer,
    customer="self",
    fields=[
        "number",
        "first_name",
        "last_name",
        "email",
        "phone",
        "birthday",
        "birthday_entered_at",
        "language",
        "source_channel",
        "created_at",
        "first_order_at",
        "last_order_at",
        "order_count",
        "total_spent_cents",
    ],  # fmt: skip
    erasure=privacy.Erasure.ANONYMISE,
    eraser=_anonymise_customer,
    retention="Kundennummer und Umsätze bleiben anonym für Kennzahlen und Buchhaltung.",
)
privacy.register(
    Address,
    customer="customer",
    fields=["kind", "company", "street", "address_extra", "postcode", "city", "country"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    ExternalId,
    customer="customer",
    fields=["shop__name", "external_id"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    Note, customer="customer", fields=["created_at", "text"], erasure=privacy.Erasure.DELETE
)
privacy.not_personal(Tag, reason="Tag names are labels staff choose, not about one person.")
