"""The sending rules' and control groups' part of `MessagingConfig.ready()`."""

from __future__ import annotations

from treu.core import privacy
from treu.messaging.models import Holdout


def move_holdouts(*, survivor, duplicate) -> int:
    """Merge handler: the duplicate's places in control groups go to the survivor, except
    for sends the survivor has a place in already (a customer is in a group once)."""
    taken = Holdout.objects.filter(customer_id=survivor.pk).values("prefix")
    Holdout.objects.filter(customer_id=duplicate.pk, prefix__in=taken).delete()
    return Holdout.objects.filter(customer_id=duplicate.pk).update(customer_id=survivor.pk)


def ready() -> None:
    from treu.core import roles
    from treu.customers.services import register_merge_handler

    roles.grant(roles.MARKETING, "messaging.view_sendingrules", "messaging.change_sendingrules")
    register_merge_handler("messaging.Holdout", move_holdouts)
    # Who was held back from which send: part of their data, gone with them.
    privacy.register(
        Holdout,
        customer="customer",
        fields=["prefix", "at"],
        erasure=privacy.Erasure.DELETE,
    )
