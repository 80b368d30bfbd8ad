"""The programme's settings and its members: joining, merging."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.bulk import from_rows, insert_rows
from treu.loyalty import selectors
from treu.loyalty.events import MEMBER_JOINED
from treu.loyalty.models import (
    SETTINGS_PK,
    Coupon,
    CreditEntry,
    EntryKind,
    EntryStatus,
    Member,
    MemberCard,
    PointsEntry,
    ProgramSettings,
    PurchaseRuleUse,
    Redemption,
    Referral,
    ReferralCode,
    TillAction,
)
from treu.loyalty.services.ledger import WELCOME, LoyaltyError, NewEntry, _append

if TYPE_CHECKING:
    from treu.customers.models import Customer

SETTINGS_FIELDS = (
    "program_name", "point_name", "membership", "points_per_euro", "points_basis",
    "include_shipping", "rounding", "welcome_points", "return_window_days",
)  # fmt: skip


@transaction.atomic
def update_program_settings(**fields: Any) -> ProgramSettings:
    """Save the programme settings; the first save starts the programme (see `started`)."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a programme setting: {sorted(unknown)}")
    current = ProgramSettings.objects.select_for_update().filter(pk=SETTINGS_PK).first()
    current = current or ProgramSettings(pk=SETTINGS_PK)  # the first save starts the programme
    for name, value in fields.items():
        setattr(current, name, value.strip() if isinstance(value, str) else value)
    try:
        current.full_clean(validate_unique=False)
    except ValidationError as error:
        raise LoyaltyError(error.message_dict) from None
    current.save()
    return current


def started(program: ProgramSettings) -> datetime | None:
    """When the programme began: orders placed before never earn (imports stay quiet)."""
    return program.created_at  # None until the settings were saved once


@transaction.atomic
def join_program(*, customer: Customer, now: datetime | None = None, source: str = "") -> Member:
    """Make a customer a member (once); welcome points are available at once."""
    program = selectors.program_settings()
    if started(program) is None:
        raise LoyaltyError(_("The loyalty programme has not been set up yet."))
    if getattr(customer, "erased_at", None):
        raise LoyaltyError(_("An erased customer cannot join the programme."))
    existing = Member.objects.filter(customer_id=customer.pk).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            created = _create_members(
                [customer.pk], program, now=now or timezone.now(), source=source
            )
    except IntegrityError:  # joined a moment ago in another request
        return Member.objects.get(customer_id=customer.pk)
    return created[customer.pk]


_MEMBER_COLUMNS = ("created_at", "updated_at", "customer_id", "joined_at", "points_balance",
                   "pending_points", "credit_cents")  # fmt: skip


def _create_members(
    customer_ids: Iterable[int], program: ProgramSettings, *, now: datetime, source: str
) -> dict[int, Member]:
    """New members with their welcome points and events; the caller holds the transaction."""
    # Plain tuples and COPY (`insert_rows`): a batch award makes hundreds on first sight.
    written = timezone.now()  # created_at/updated_at as auto_now(_add) would set them
    rows = [(written, written, cid, now, 0, 0, 0) for cid in customer_ids]
    members = from_rows(Member, _MEMBER_COLUMNS, rows, insert_rows(Member, _MEMBER_COLUMNS, rows))
    joined = [
        events.NewEvent(
            kind=MEMBER_JOINED,
            customer_id=m.customer_id,
            payload={"member_id": m.pk, "program": program.program_name},
            source=source,
            occurred_at=now,
        )
        for m in members
    ]
    events.publish_many(joined)
    if program.welcome_points:
        _append(
            [
                (
                    m,
                    [
                        NewEntry(
                            kind=EntryKind.EARN,
                            points=program.welcome_points,
                            status=EntryStatus.AVAILABLE,
                            available_at=now,
                            source_rule=WELCOME,
                            key=f"welcome:{m.pk}",
                        )
                    ],
                )
                for m in members
            ],
            program=program,
            now=now,
            source=source,
        )
    return {m.customer_id: m for m in members}


def merge_members(*, survivor: Customer, duplicate: Customer) -> int:
    """Merge handler for customers: one member per person, their ledgers joined."""
    dup = Member.objects.select_for_update().filter(customer_id=duplicate.pk).first()
    if dup is None:
        return 0
    kept = Member.objects.select_for_update().filter(customer_id=survivor.pk).first()
    if kept is None:
        return Member.objects.filter(pk=dup.pk).update(customer_id=survivor.pk)
    from treu.loyalty.services.stamps import merge_stamp_cards  # stamps import this module

    merge_stamp_cards(survivor=kept, duplicate=dup)
    moved = PointsEntry.objects.filter(member=dup).update(member=kept)
    # Rewards, store credit and the uses of once-only earning rules follow.
    for model in (Redemption, Coupon, CreditEntry, PurchaseRuleUse):
        model.objects.filter(member=dup).update(member=kept)
    # The duplicate's referrals follow (its code goes with it unless the survivor has one).
    Referral.objects.filter(advocate=dup).update(advocate=kept)
    if not ReferralCode.objects.filter(member=kept).exists():
        ReferralCode.objects.filter(member=dup).update(member=kept)
    # The till's bookings follow; the duplicate's card goes unless the survivor has none.
    TillAction.objects.filter(member=dup).update(member=kept)
    if not MemberCard.objects.filter(member=kept).exists():
        MemberCard.objects.filter(member=dup).update(member=kept)
    Member.objects.filter(pk=kept.pk).update(
        points_balance=kept.points_balance + dup.points_balance,
        pending_points=kept.pending_points + dup.pending_points,
        credit_cents=kept.credit_cents + dup.credit_cents,
        joined_at=min(kept.joined_at, dup.joined_at),
    )
    Member.objects.filter(pk=dup.pk).delete()
    return moved
