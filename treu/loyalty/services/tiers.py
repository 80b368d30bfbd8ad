"""Tiers: settings and tiers, moving members up at once and down only at period end, VIPs.

The recompute is set-based: per chunk of customers one aggregate of the qualifying figure,
one read of the current tiers, the comparison in Python, then one UPDATE
(`core.bulk.update_values`) and one INSERT for what changed, and the events in one go.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.bulk import insert_rows, update_values
from treu.loyalty import tier_selectors
from treu.loyalty.events import TIER_CHANGED, TIER_DOWNGRADE_NOTICE
from treu.loyalty.models import (
    SETTINGS_PK,
    Member,
    MemberTier,
    Tier,
    TierAssignment,
    TierSettings,
)
from treu.loyalty.services.ledger import LoyaltyError

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

TIER_SETTINGS_FIELDS = ("basis", "period", "notice_days", "vip_top_percent")
TIER_FIELDS = (
    "name", "rank", "threshold", "invite_only", "earning_multiplier", "free_shipping",
    "early_access", "birthday_gift",
)  # fmt: skip
# Customers per chunk of the recompute: bounded memory and short transactions. Not more:
# each event of a chunk is an on_commit callback, and Django runs them with list.pop(0),
# which is quadratic in their number (100,000 customers, 65,000 events: seconds).
RECOMPUTE_CHUNK = 20_000


def _cleaned(obj: Any) -> None:
    try:
        obj.full_clean()
    except ValidationError as error:
        raise LoyaltyError(error.message_dict) from None


@transaction.atomic
def update_tier_settings(**fields: Any) -> TierSettings:
    """Save how members qualify; takes effect at the next recompute."""
    unknown = set(fields) - set(TIER_SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a tier setting: {sorted(unknown)}")
    current = TierSettings.objects.select_for_update().filter(pk=SETTINGS_PK).first()
    current = current or TierSettings(pk=SETTINGS_PK)
    for name, value in fields.items():
        setattr(current, name, value)
    _cleaned(current)
    current.save()
    return current


@transaction.atomic
def save_tier(*, tier: Tier | None = None, **fields: Any) -> Tier:
    """Create or change a tier. Open tiers must need more the higher they rank."""
    unknown = set(fields) - set(TIER_FIELDS)
    if unknown:
        raise TypeError(f"Not a tier field: {sorted(unknown)}")
    tier = tier or Tier()
    for name, value in fields.items():
        setattr(tier, name, value.strip() if isinstance(value, str) else value)
    _cleaned(tier)
    if not tier.invite_only:
        others = Tier.objects.filter(invite_only=False).exclude(pk=tier.pk)
        if others.filter(rank__lt=tier.rank, threshold__gte=tier.threshold).exists() or (
            others.filter(rank__gt=tier.rank, threshold__lte=tier.threshold).exists()
        ):
            raise LoyaltyError(
                {"threshold": [_("A higher tier needs a higher threshold than a lower one.")]}
            )
    tier.save()
    return tier


@dataclass
class RecomputeResult:
    members: int = 0
    upgraded: int = 0
    downgraded: int = 0
    notices: int = 0
    # Seconds per phase of the work (for the benchmark and the job's log line).
    phases: dict[str, float] = field(default_factory=dict)

    def timed(self, phase: str, started: float) -> float:
        now = time.monotonic()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - started
        return now


def recompute_tiers(
    *, member_ids: Iterable[int] | None = None, now: datetime | None = None
) -> RecomputeResult:
    """Bring members' tiers up to date; all members (the job) or some (after their orders).

    Upgrades at once; a member who qualifies for less keeps the tier until `held_until`
    (the end of the qualification period), hears about it `notice_days` before
    (`loyalty.tier_downgrade_notice`), then moves down; never without that notice (a
    missed notice moves the end to `notice_days` after it is sent). Tiers assigned by staff are left
    alone. The VIP rule (top X % by lifetime spend) is applied in full runs only; a partial
    run leaves a member in an invite-only tier as they are.
    """
    now = now or timezone.now()
    tiers = tier_selectors.tier_list()
    result = RecomputeResult()
    if not tiers:
        return result
    settings = tier_selectors.tier_settings()
    if member_ids is not None:
        ids = sorted(set(member_ids))
        for start in range(0, len(ids), 1000):
            members = dict(
                Member.objects.filter(pk__in=ids[start : start + 1000]).values_list(
                    "customer_id", "pk"
                )
            )
            _recompute_chunk(members, None, tiers, settings, now, None, result)
        return result
    vip = _vip_members(tiers, settings)
    top = Member.objects.aggregate(m=Max("customer_id"))["m"] or 0
    for lo in range(0, top + 1, RECOMPUTE_CHUNK):
        rng = (lo, lo + RECOMPUTE_CHUNK)
        members = dict(
            Member.objects.filter(customer_id__gte=rng[0], customer_id__lt=rng[1]).values_list(
                "customer_id", "pk"
            )
        )
        if members:
            _recompute_chunk(members, rng, tiers, settings, now, vip, result)
    return result


def upgrade_tiers_after(
    *, basis: str, member_ids: Iterable[int] = (), customer_ids: Iterable[int] = ()
) -> RecomputeResult:
    """Recompute the members an order (spend) or a points change (points) concerns.

    Subscribers call this for their own basis only, so one order is not counted twice:
    `order.ingested` for spend (also orders that earn no points), `loyalty.points_changed`
    for points. Returns at once when there are no tiers.
    """
    if not Tier.objects.exists() or tier_selectors.tier_settings().basis != basis:
        return RecomputeResult()
    ids = set(member_ids)
    customers = sorted(set(customer_ids))
    for start in range(0, len(customers), 1000):
        ids.update(
            Member.objects.filter(customer_id__in=customers[start : start + 1000]).values_list(
                "pk", flat=True
            )
        )
    return recompute_tiers(member_ids=ids)


@transaction.atomic
def take_back_undone_upgrade(
    *,
    member_id: int,
    tier_before_id: int | None,
    held_before: datetime | None,
    notice_before: datetime | None,
    booked_at: datetime,
    now: datetime | None = None,
) -> bool:
    """Lower a tier that a till purchase brought, once that purchase was undone.

    Tiers move up at once and down only after a notice; but a booking taken back within
    minutes was a mistake, not a purchase, so the upgrade it made goes with it. The member
    keeps what they qualify for without it (an order since may have lifted them as well)
    and never drops below the tier they had before the booking, which comes back with its
    period and notice. Staff-assigned and invite-only tiers are left alone. Returns whether
    the tier changed.
    """
    now = now or timezone.now()
    tiers = tier_selectors.tier_list()
    if not tiers:
        return False
    member = Member.objects.select_for_update().get(pk=member_id)
    state = MemberTier.objects.select_related("tier").filter(member=member).first()
    if (
        state is None
        or state.tier is None
        or state.pinned
        or state.tier.invite_only
        or state.updated_at < booked_at  # not moved since the booking
    ):
        return False
    settings = tier_selectors.tier_settings()
    value = tier_selectors.qualifying_values(
        settings, now=now, members={member.customer_id: member.pk}
    ).get(member.pk, 0)
    qualified = tier_selectors.qualified_tier(tiers, value)
    before = next((t for t in tiers if t.pk == tier_before_id), None)
    rank_before, rank_qualified = (
        (before.rank if before else 0),
        (qualified.rank if qualified else 0),
    )
    if state.tier.rank <= max(rank_before, rank_qualified):
        return False  # the tier does not rest on the undone purchase
    old = state.tier
    if rank_before >= rank_qualified:
        state.tier, state.held_until, state.notice_for = before, held_before, notice_before
    else:
        state.tier = qualified
        state.held_until, state.notice_for = tier_selectors.held_until_for(settings, now), None
    state.updated_at = now
    state.save(update_fields=["tier", "held_until", "notice_for", "updated_at"])
    events.publish_many(
        [
            _event(
                TIER_CHANGED, member.customer_id, member.pk, old, state.tier, now,
                state.held_until, cause="undo", source="till",
            )
        ]
    )  # fmt: skip
    return True


def _vip_members(tiers: list[Tier], settings: TierSettings) -> set[int]:
    """The members the VIP rule puts in the invite-only tier: top X % by lifetime spend.

    Ties at the edge go to the earlier member; customers who never spent are never VIPs.
    """
    if settings.vip_top_percent is None or not any(t.invite_only for t in tiers):
        return set()
    k = math.ceil(Member.objects.count() * float(settings.vip_top_percent) / 100)
    ranked = (
        Member.objects.filter(customer__total_spent_cents__gt=0)
        .order_by("-customer__total_spent_cents", "pk")
        .values_list("pk", flat=True)
    )
    return set(ranked[:k])


def _recompute_chunk(
    members: dict[int, int],
    customer_range: tuple[int, int] | None,
    tiers: list[Tier],
    settings: TierSettings,
    now: datetime,
    vip: set[int] | None,
    result: RecomputeResult,
) -> None:
    try:
        with transaction.atomic():
            _recompute(members, customer_range, tiers, settings, now, vip, result)
            started = time.monotonic()
        result.timed("commit", started)  # with the events handed to their subscribers
    except IntegrityError:
        # Another recompute gave one of these members a first tier row at the same moment;
        # the second pass sees it and compares with it.
        with transaction.atomic():
            _recompute(members, customer_range, tiers, settings, now, vip, result)


def _recompute(
    members: dict[int, int],
    customer_range: tuple[int, int] | None,
    tiers: list[Tier],
    settings: TierSettings,
    now: datetime,
    vip: set[int] | None,
    result: RecomputeResult,
) -> None:
    started = time.monotonic()
    values = tier_selectors.qualifying_values(
        settings, now=now, members=members, customer_range=customer_range
    )
    started = result.timed("figures", started)
    if customer_range is not None:  # the whole chunk: a range scan, no list of ids
        states = MemberTier.objects.filter(
            member__customer_id__gte=customer_range[0], member__customer_id__lt=customer_range[1]
        )
    else:
        states = MemberTier.objects.filter(member_id__in=list(members.values()))
    current = {
        row[0]: row[1:]
        for row in states.values_list("member_id", "tier_id", "held_until", "notice_for", "pinned")
    }
    started = result.timed("read", started)
    by_id = {t.pk: t for t in tiers}
    vip_tier = max((t for t in tiers if t.invite_only), key=lambda t: t.rank, default=None)
    # The open tiers by threshold: a member's tier is found by bisection, not a loop.
    ladder = sorted((t for t in tiers if not t.invite_only), key=lambda t: (t.threshold, t.rank))
    thresholds = [t.threshold for t in ladder]
    best = [ladder[0]] if ladder else []
    for t in ladder[1:]:  # the highest rank among the tiers a value reaches
        best.append(t if t.rank > best[-1].rank else best[-1])
    holds = tier_selectors.held_until_for(settings, now)
    notice = timedelta(days=settings.notice_days)
    notice_ends = now + notice  # a tier held past then needs no notice yet
    updates, inserts, published = [], [], []
    payloads: dict[tuple, dict] = {}
    for customer_id, member_id in members.items():
        tier_id, held, notice_for, pinned = current.get(member_id, (None, None, None, False))
        if pinned:
            continue
        tier = by_id.get(tier_id)
        if vip is None and tier is not None and tier.invite_only:
            continue  # partial run: the VIP rule is only applied in full runs
        result.members += 1
        reached = bisect_right(thresholds, values.get(member_id, 0))
        target = best[reached - 1] if reached else None
        if vip_tier is not None and vip is not None and member_id in vip:
            target = vip_tier
        rank, target_rank = (tier.rank if tier else 0), (target.rank if target else 0)
        new = None
        if target_rank > rank:
            new = (target.pk, holds, None)
            result.upgraded += 1
        elif target_rank == rank:
            if target is not None and (held is None or held < holds):
                new = (tier_id, holds, notice_for)
        elif held is not None and held > notice_ends:
            pass  # qualifies for less, but the period runs on: nothing to say yet
        elif held is not None and notice_for != held and notice:
            # Never down without the notice: if the job missed the day, the tier is held
            # until the notice period has run from now.
            held = max(held, notice_ends)
            new = (tier_id, held, held)
            result.notices += 1
            published.append(
                _event(TIER_DOWNGRADE_NOTICE, customer_id, member_id, tier, target, now, held,
                       memo=payloads)
            )  # fmt: skip
        elif held is None or now >= held:
            new = (target.pk if target else None, holds if target else None, None)
            result.downgraded += 1
        if new is None:
            continue
        if new[0] != tier_id:
            published.append(
                _event(TIER_CHANGED, customer_id, member_id, tier, by_id.get(new[0]), now, new[1],
                       memo=payloads)
            )  # fmt: skip
        if member_id in current:
            updates.append((member_id, *new, now))
        else:
            inserts.append((member_id, *new, False, now))
    started = result.timed("compare", started)
    _update_states(updates)
    insert_rows(
        MemberTier,
        ["member_id", "tier_id", "held_until", "notice_for", "pinned", "updated_at"],
        inserts,
        return_ids=False,
    )
    started = result.timed("write", started)
    events.publish_many(published)
    result.timed("events", started)


# More distinct new states than this in one chunk: one UPDATE of value arrays instead.
_STATE_GROUPS = 64


def _update_states(updates: list[tuple]) -> None:
    """Write changed tier rows `(member_id, tier_id, held_until, notice_for, now)`.

    On PostgreSQL the rows of a night share a handful of new states (the tier reached, the
    end of the period, the notice given), so they are written as one `UPDATE … WHERE
    member_id = ANY(ids)` per state with the ids as one array literal: psycopg adapts
    arrays of datetimes value by value in Python, which cost more than the UPDATE itself.
    """
    if not updates:
        return
    groups: dict[tuple, list[int]] = defaultdict(list)
    for member_id, *state in updates:
        groups[tuple(state)].append(member_id)
    if connection.vendor != "postgresql" or len(groups) > _STATE_GROUPS:
        update_values(MemberTier, ["tier_id", "held_until", "notice_for", "updated_at"], updates)
        return
    table = connection.ops.quote_name(MemberTier._meta.db_table)
    sql = (
        f"UPDATE {table} SET tier_id = %s, held_until = %s, notice_for = %s, "  # noqa: S608
        "updated_at = %s WHERE member_id = ANY(%s::bigint[])"
    )
    with connection.cursor() as cursor:
        for state, ids in sorted(groups.items(), key=lambda item: min(item[1])):
            ids.sort()  # rows locked in key order, as update_values does
            cursor.execute(sql, [*state, "{" + ",".join(map(str, ids)) + "}"])


def _event(
    kind: str,
    customer_id: int,
    member_id: int,
    old: Tier | None,
    new: Tier | None,
    now: datetime,
    held_until: datetime | None,
    *,
    cause: str = "",
    source: str = "loyalty",
    memo: dict[tuple, dict] | None = None,
) -> events.NewEvent:
    """The event of one member's change. `memo`: payloads by change, for a whole night of them."""
    key = (kind, old, new, held_until, cause)
    shared = memo.get(key) if memo is not None else None
    if shared is None:
        shared = {
            "from_tier": old.name if old else None,
            "to_tier": new.name if new else None,
            "direction": "up" if (new.rank if new else 0) > (old.rank if old else 0) else "down",
            "held_until": held_until.isoformat() if held_until else None,
        }
        if kind == TIER_CHANGED:
            shared["cause"] = cause or "qualification"
        else:
            shared["on"] = timezone.localdate(held_until).isoformat() if held_until else None
        if memo is not None:
            memo[key] = shared
    payload = {"member_id": member_id, **shared}
    return events.NewEvent(
        kind=kind, customer_id=customer_id, payload=payload, source=source, occurred_at=now
    )


@transaction.atomic
def assign_tier(
    *,
    member: Member,
    tier: Tier | None,
    reason: str,
    staff_user: AbstractBaseUser | None,
    now: datetime | None = None,
) -> MemberTier:
    """Staff put a member in a tier (the invite-only VIP tier, usually) or take them out.

    `tier=None` hands the member back to the rules: the recompute sets their tier at once.
    Needs a reason and the staff member; both are kept (TierAssignment) and shown.
    """
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = [_("Give a reason: it is kept with the assignment.")]
    if staff_user is None:
        errors["staff_user"] = [_("Assigning a tier needs the staff member doing it.")]
    if errors:
        raise LoyaltyError(errors)
    member = Member.objects.select_for_update().get(pk=member.pk)
    state = MemberTier.objects.select_related("tier").filter(member=member).first()
    old = state.tier if state else None
    state = state or MemberTier(member=member)
    state.tier, state.pinned = tier, tier is not None
    state.held_until, state.notice_for, state.updated_at = None, None, now
    state.save()
    TierAssignment.objects.create(
        member=member, tier=tier, staff_user=staff_user, reason=reason.strip()[:200]
    )
    if old != tier:
        events.publish_many(
            [
                _event(
                    TIER_CHANGED, member.customer_id, member.pk, old, tier, now, None,
                    cause="staff", source="backoffice",
                )
            ]
        )  # fmt: skip
    if tier is None:
        recompute_tiers(member_ids=[member.pk], now=now)
        state.refresh_from_db()
    return state
