"""Loyalty's part of the demo shop: resetting the demo removes members and ledgers first.

(The demo builds no loyalty data yet; a programme saved and members enrolled while trying
the demo must not stop `demo --reset`, which deletes every customer and order.)
"""

from __future__ import annotations

from treu.loyalty.models import Member, PointsEntry, StampCard, StampEntry, StampVoucher


def reset() -> None:
    PointsEntry.objects.all().delete()
    StampVoucher.objects.all().delete()
    StampEntry.objects.all().delete()  # they point at orders
    StampCard.objects.all().delete()
    Member.objects.all().delete()
