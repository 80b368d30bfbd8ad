from __future__ import annotations

from django.db import transaction
from django.db.models import F

from treu.core.models import NumberSequence


@transaction.atomic
def reserve_numbers(name: str, count: int = 1, *, start: int = 1) -> int:
    """Reserve `count` consecutive numbers of sequence `name`; returns the first.

    The UPDATE takes a row lock, so concurrent callers on PostgreSQL queue
    instead of handing out the same number twice.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    NumberSequence.objects.get_or_create(name=name, defaults={"last_value": start - 1})
    NumberSequence.objects.filter(name=name).update(last_value=F("last_value") + count)
    last = NumberSequence.objects.values_list("last_value", flat=True).get(name=name)
    return last - count + 1


def next_number(name: str, *, start: int = 1) -> int:
    return reserve_numbers(name, 1, start=start)
