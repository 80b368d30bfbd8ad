"""Loyalty's part of the demo shop: resetting the demo removes members and ledgers first.

(The demo builds no loyalty data yet; a programme saved, rewards redeemed and members
enrolled while trying the demo must not stop `demo --reset`, which deletes every customer
and order.) The catalogue stays: it belongs to no customer.
"""

from __future__ import annotations

from treu.loyalty.models import (
    Coupon,
    CreditEntry,
    CreditKind,
    Member,
    PointsEntry,
    Redemption,
    StampCard,
    StampEntry,
    StampVoucher,
)


def reset() -> None:
    # In the order the protecting foreign keys need (see privacy._erase_member).
    CreditEntry.objects.filter(kind=CreditKind.RESTORE).delete()
    CreditEntry.objects.all().delete()
    Coupon.objects.all().delete()
    Redemption.objects.all().delete()
    PointsEntry.objects.all().delete()
    StampVoucher.objects.all().delete()
    StampEntry.objects.all().delete()  # they point at orders
    StampCard.objects.all().delete()
    Member.objects.all().delete()
