"""Loyalty's part of the demo shop: a programme that has been running for a while.

The roaster started its programme ("Bohnen") 18 months before the history ends: tiers
Bronze/Silber/Gold by twelve months' spend, a catalogue of rewards that fits a roaster, a
stamp card, referrals. Per chunk of demo customers, their orders since the start earn
points through the real set-based service (`award_points_for_orders`, a month of orders
at a time with `now=` at the month's end, so the ledger has a history), returns take
points back (`settle_order_points`), due points are released, some members redeem
rewards, a few get adjustments with a reason, a few bring friends (one referral waits in
the review queue), and the chunk's tiers are recomputed. Every write goes through the
loyalty services, so balances are ledger sums and the tiers follow the rules.

Seeded: the choices come from the step's own random stream (coupon and referral codes
are random by design, as in production). Resetting removes members, ledgers and
referrals; the catalogue, tiers and card type stay and are reused by the next build.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone

from treu.core.models import DomainEvent
from treu.loyalty import services
from treu.loyalty.models import (
    Coupon,
    CreditEntry,
    CreditKind,
    Member,
    PartnerCode,
    PointsEntry,
    ProgramSettings,
    Redemption,
    Referral,
    ReferralCode,
    ReferralStatus,
    Reward,
    StampCard,
    StampCardType,
    StampEntry,
    StampVoucher,
    Tier,
)

if TYPE_CHECKING:
    from treu.demo.generator import ChunkContext

PROGRAMME_MONTHS = 18
CUP_SKU = "AUSSCHANK-KAFFEE"
AWARD_BATCH = 1000
TIERS = (("Bronze", 1, 5_000), ("Silber", 2, 15_000), ("Gold", 3, 40_000))  # cents, 12 months
REWARDS = (
    {"name": "5 € Rabatt", "kind": "fixed_amount", "points_cost": 250, "amount_cents": 500},
    {"name": "10 % Rabatt", "kind": "percent", "points_cost": 400, "percent": 10,
     "max_discount_cents": 1500, "description": "Auf den ganzen Einkauf, höchstens 15 €"},
    {"name": "250 g Kaffee gratis", "kind": "free_product", "points_cost": 600,
     "product_sku": "K-COL-250", "description": "Kolumbien Huila, 250 g"},
    {"name": "Kostenloser Versand", "kind": "free_shipping", "points_cost": 150},
    {"name": "10 € Guthaben", "kind": "store_credit", "points_cost": 500, "amount_cents": 1000},
    {"name": "Röstkurs in der Rösterei", "kind": "experience", "points_cost": 1200,
     "seats": 12, "description": "Zwei Stunden am Röster, mit Verkostung", "gold": True},
    {"name": "Croissant bei Bäckerei Korn", "kind": "partner", "points_cost": 100,
     "partner_name": "Bäckerei Korn", "description": "Ein Buttercroissant nebenan"},
)  # fmt: skip
ADJUSTMENTS = (
    (50, "Kulanz: Paket kam beschädigt an"),
    (100, "Verkostung im Laden mitgemacht"),
    (30, "Nachtrag: Punkte für Kassenbon vom Markt"),
    (-40, "Doppelt gebuchte Ladenpunkte korrigiert"),
)


def reset() -> None:
    """Delete members, ledgers and referrals (they point at customers and orders)."""
    # In the order the protecting foreign keys need (see privacy._erase_member).
    CreditEntry.objects.filter(kind=CreditKind.RESTORE).delete()
    CreditEntry.objects.all().delete()
    Coupon.objects.all().delete()
    Redemption.objects.all().delete()
    PointsEntry.objects.all().delete()
    StampVoucher.objects.all().delete()
    StampEntry.objects.all().delete()  # they point at orders
    StampCard.objects.all().delete()
    Referral.objects.all().delete()
    ReferralCode.objects.all().delete()
    Member.objects.all().delete()
    # The catalogue stays; what the deleted redemptions took is free again.
    PartnerCode.objects.update(handed_out_at=None)
    Reward.objects.filter(seats__isnull=False).update(seats_taken=0)


def _moment(day, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))  # noqa: DTZ001


def _programme(ctx: ChunkContext) -> tuple[datetime, datetime, StampCardType]:
    """The programme, its tiers, catalogue, stamp card and referral settings (made once)."""
    end = _moment(ctx.timeline.until, 0)  # where the history ends: nothing happens after
    start = max(end - timedelta(days=round(30.44 * PROGRAMME_MONTHS)), ctx.timeline.start_at)
    program = ProgramSettings.objects.filter(pk=1).first()
    card = StampCardType.objects.filter(name="Kaffeekarte").first()
    if program is not None and program.point_name == "Bohnen" and card is not None:
        ProgramSettings.objects.update(created_at=start)  # a rebuild may end on another day
        return start, end, card
    services.update_program_settings(
        program_name="Röstkontor Treue", point_name="Bohnen", membership="all",
        points_per_euro=1, welcome_points=50, return_window_days=14,
    )  # fmt: skip
    ProgramSettings.objects.update(created_at=start)  # started 18 months ago
    services.update_tier_settings(basis="spend", period="rolling", notice_days=30)
    tiers = {}
    for name, rank, threshold in TIERS:
        existing = Tier.objects.filter(name=name).first()
        tiers[name] = existing or services.save_tier(
            name=name, rank=rank, threshold=threshold, free_shipping=name == "Gold",
            early_access=name != "Bronze",
            birthday_gift="250 g Geburtstagskaffee" if name == "Gold" else "",
        )  # fmt: skip
    for spec in REWARDS:
        fields = {k: v for k, v in spec.items() if k != "gold"}
        if Reward.objects.filter(name=fields["name"]).exists():
            continue
        reward = services.save_reward(
            **fields, eligible_tiers=[tiers["Gold"]] if spec.get("gold") else []
        )
        if reward.kind == "partner":
            codes = "\n".join(f"KORN-{n:05d}" for n in range(1, 2001))
            services.add_partner_codes(reward=reward, text=codes)
    # The coffee poured at the counter: never an order line of the demo's shops, so the
    # card fills at the till only (as the cashier stamps it) and online orders earn none.
    card = services.save_stamp_card_type(
        name="Kaffeekarte", stamps_needed=10, skus=[CUP_SKU], reward_sku=CUP_SKU,
        reward_description="10 Kaffee = 1 gratis: ein Kaffee nach Wahl",
        voucher_valid_days=90, valid_from=timezone.localdate(start),
    )  # fmt: skip
    services.update_referral_settings(
        active=True, advocate_reward="points", advocate_points=200,
        friend_discount_cents=500, friend_coupon_valid_days=30, max_referrals_per_ip_week=5,
    )  # fmt: skip
    return start, end, card


def _month_end(moment: datetime, end: datetime) -> datetime:
    local = timezone.localtime(moment)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + timedelta(days=32)).replace(day=1)
    return min(following - timedelta(seconds=1), end)


@contextmanager
def _stamped_now() -> Iterator[None]:
    """The services' events get their `recorded_at` again: the generator switches auto_now
    off while it writes history (`timestamps_as_given`); the services' rows are written now."""
    recorded = DomainEvent._meta.get_field("recorded_at")
    before = recorded.auto_now_add
    recorded.auto_now_add = True
    try:
        yield
    finally:
        recorded.auto_now_add = before


def chunk(ctx: ChunkContext) -> None:
    """Loyalty for one chunk of demo customers (inside the chunk's transaction)."""
    last = DomainEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with _stamped_now():
        end = _chunk(ctx)
    # Services that publish without a time of their own stamp the event with the real
    # clock; in the demo's history nothing happens after its end, and an event is recorded
    # when it occurred (as the generator's own history is).
    new = DomainEvent.objects.filter(pk__gt=last)
    new.filter(occurred_at__gt=end).update(occurred_at=end)
    new.update(recorded_at=F("occurred_at"))


def _chunk(ctx: ChunkContext) -> datetime:
    start, end, card = _programme(ctx)
    by_month: dict[datetime, list[int]] = defaultdict(list)
    month_of: dict[int, datetime] = {}
    for order in ctx.orders:
        if order.customer_id is not None and start <= order.placed_at < end:
            month = _month_end(order.placed_at, end)
            by_month[month].append(order.pk)
            month_of[order.pk] = month
    for month in sorted(by_month):
        ids = by_month[month]
        for n in range(0, len(ids), AWARD_BATCH):
            services.award_points_for_orders(ids[n : n + AWARD_BATCH], now=month)
    for ret in ctx.returns:  # returned goods take their points back
        if ret.order_id in month_of:
            at = min(max(ret.refunded_at, month_of[ret.order_id]), end)
            services.settle_order_points(ret.order_id, cause=f"return:{ret.pk}", now=at)
    services.release_pending_points(now=end)
    customer_ids = [c.pk for c in ctx.customers]
    members = list(Member.objects.filter(customer_id__in=customer_ids).order_by("customer_id"))
    # Tiers go by spend: nothing after this (redemptions, adjustments, referrals) moves them.
    services.recompute_tiers(member_ids=[m.pk for m in members], now=end)
    _till_stamps(ctx, members, card, end)
    _redemptions(ctx, members, end)
    _adjustments(ctx, members, end)
    _referrals(ctx, members, start, end)
    services.reward_referrals(now=end)
    return end


def _till_stamps(ctx: ChunkContext, members: list[Member], card, end: datetime) -> None:
    """The cashier stamped the cards of some regulars in the store (a coffee at the counter)."""
    for member in ctx.rng.sample(members, min(len(members), max(1, len(members) // 40))):
        services.add_stamps(
            member=member, card_type=card, count=ctx.rng.randint(1, 12),
            staff_user=ctx.staff["kasse"], reason="Kaffee im Laden",
            now=end - timedelta(days=ctx.rng.randint(1, 90)),
        )  # fmt: skip


def _redemptions(ctx: ChunkContext, members: list[Member], end: datetime) -> None:
    """About one in ten members who could afford a reward redeemed one."""
    rewards = list(Reward.objects.filter(active=True).order_by("points_cost", "pk"))
    staff = [ctx.staff["kasse"], ctx.staff["marketing"], None]  # None: the shop's account page
    balances = dict(
        Member.objects.filter(pk__in=[m.pk for m in members]).values_list("pk", "points_balance")
    )
    for member in members:
        affordable = [r for r in rewards if r.points_cost <= balances[member.pk]]
        if not affordable or ctx.rng.random() > 0.1:
            continue
        reward = ctx.rng.choice(affordable)
        when = end - timedelta(days=ctx.rng.randint(0, 60), hours=ctx.rng.randint(1, 10))
        try:
            services.redeem_reward(
                member=member, reward=reward, staff_user=ctx.rng.choice(staff),
                source="demo", now=when,
            )  # fmt: skip
        except services.LoyaltyError:
            continue  # Gold only, fully booked: as at a real till, the member picks nothing


def _adjustments(ctx: ChunkContext, members: list[Member], end: datetime) -> None:
    """Staff corrected a few balances by hand, each with its reason."""
    picked = ctx.rng.sample(members, min(len(members), max(1, len(members) // 150)))
    for member in picked:
        points, reason = ctx.rng.choice(ADJUSTMENTS)
        member.refresh_from_db(fields=["points_balance"])
        if member.points_balance + points < 0:
            points = -points
        services.adjust_points(
            member=member, points=points, reason=reason, staff_user=ctx.staff["inhaberin"],
            now=end - timedelta(days=ctx.rng.randint(0, 120)),
        )  # fmt: skip


def _referrals(ctx: ChunkContext, members: list[Member], start: datetime, end: datetime) -> None:
    """A few members brought friends: the friend's first order came right after the referral.

    The first chunk also records one whose friend had ordered before (flag `not_new`), so
    the review queue is not empty.
    """
    first_order: dict[int, datetime] = {}
    for order in sorted(ctx.orders, key=lambda o: o.placed_at):
        if order.customer_id is not None:
            first_order.setdefault(order.customer_id, order.placed_at)
    newcomers = [cid for cid, at in first_order.items() if start + timedelta(days=30) < at < end]
    advocates = [m for m in members if timezone.localtime(m.joined_at) < end]
    count = min(len(newcomers), len(advocates), max(1, len(ctx.customers) // 300))
    if count == 0:
        return
    by_id = {c.pk: c for c in ctx.customers}
    friends = ctx.rng.sample(newcomers, count)
    for friend_id in friends:
        at = first_order[friend_id] - timedelta(hours=2)
        candidates = [m for m in advocates if m.customer_id != friend_id and m.joined_at < at]
        if not candidates:
            continue
        advocate = ctx.rng.choice(candidates)
        code = services.referral_code_for(member=advocate).code
        try:
            services.record_referral(code=code, friend=by_id[friend_id], source="demo", now=at)
        except services.LoyaltyError:
            continue
    if not Referral.objects.filter(status=ReferralStatus.REVIEW).exists():
        referred = set(Referral.objects.values_list("friend_id", flat=True))
        late = [
            cid
            for cid, at in first_order.items()
            if at < end - timedelta(days=30) and cid not in referred
        ]
        if late and advocates:
            friend_id = ctx.rng.choice(late)
            advocate = next((m for m in advocates if m.customer_id != friend_id), None)
            if advocate is not None:
                code = services.referral_code_for(member=advocate).code
                # Ordered weeks before: "not new", so it waits for review.
                with suppress(services.LoyaltyError):
                    services.record_referral(
                        code=code, friend=by_id[friend_id], source="demo",
                        now=end - timedelta(days=3),
                    )  # fmt: skip
