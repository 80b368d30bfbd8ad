"""Hypothesis property: random referrals, orders, cancellations, returns and reward runs.

The advocate is rewarded at most once per friend, only for the friend's first order, only
once its return window has passed and only if it was neither cancelled nor returned by
then; never for a self-referral or a friend who had ordered before. Checked against a
small model of the rules after every reward run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.commerce import services as commerce
from treu.commerce.tests.factories import ShopFactory, make_order
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors, services
from treu.loyalty.models import PointsEntry, Referral, ReferralStatus
from treu.loyalty.services.referrals import GRACE
from treu.loyalty.tests.conftest import start_program

FRIENDS = 4  # the last one is the advocate under another address of the same inbox
REWARD = 100
WINDOW = 14

step = st.one_of(
    st.tuples(st.just("refer"), st.integers(0, FRIENDS - 1)),
    st.tuples(st.just("order"), st.integers(0, FRIENDS - 1)),
    st.tuples(st.just("cancel"), st.integers(0, FRIENDS - 1), st.integers(0, 2)),
    st.tuples(st.just("return"), st.integers(0, FRIENDS - 1), st.integers(0, 2)),
    st.tuples(st.just("wait"), st.integers(1, 10)),  # days
    st.tuples(st.just("reward")),
)


@dataclass
class Bought:
    order: object
    placed_at: datetime
    cancelled: bool = False
    returned: bool = False


@dataclass
class Friend:
    customer: object
    orders: list[Bought] = field(default_factory=list)
    referred_at: datetime | None = None
    flagged: bool = False
    rewarded: bool = False

    def first_order(self) -> Bought | None:
        since = self.referred_at - GRACE
        return next((b for b in self.orders if b.placed_at >= since), None)


class TestReferralInvariants(TestCase):
    @given(st.lists(step, min_size=1, max_size=25))
    @example([("refer", 0), ("order", 0), ("wait", 10), ("wait", 5), ("reward",), ("reward",)])
    @example([("order", 1), ("wait", 1), ("refer", 1), ("order", 1), ("wait", 10), ("wait", 10),
              ("reward",)])  # fmt: skip
    @example([("refer", 3), ("order", 3), ("wait", 10), ("wait", 10), ("reward",)])
    @example([("refer", 2), ("order", 2), ("cancel", 2, 0), ("wait", 10), ("wait", 10),
              ("order", 2), ("reward",)])  # fmt: skip
    @settings(max_examples=80, deadline=None)
    def test_the_advocate_is_rewarded_at_most_once_and_only_by_the_rules(self, steps):
        start_program()
        services.update_referral_settings(active=True, advocate_points=REWARD)
        shop = ShopFactory()
        advocate = services.join_program(
            customer=CustomerFactory(email="werber@example.de", first_name="W", last_name="E")
        )
        code = services.referral_code_for(member=advocate).code
        friends = [Friend(CustomerFactory(first_name=f"F{i}")) for i in range(FRIENDS - 1)]
        friends.append(Friend(CustomerFactory(email="Werber+2@example.de", first_name="X")))
        clock = timezone.now() - timedelta(days=200)

        for action, *args in steps:
            if action == "refer":
                friend = friends[args[0]]
                referral, created = services.record_referral(
                    code=code, friend=friend.customer, now=clock
                )
                if created:
                    friend.referred_at = clock
                    earlier = any(b.placed_at < clock - GRACE for b in friend.orders)
                    friend.flagged = earlier or friend is friends[-1]
                    expected = ReferralStatus.REVIEW if friend.flagged else ReferralStatus.PENDING
                    assert referral.status == expected
            elif action == "order":
                friend = friends[args[0]]
                clock += timedelta(minutes=1)
                order = make_order(customer=friend.customer, shop=shop, placed_at=clock)
                friend.orders.append(Bought(order, clock))
            elif action == "cancel":
                bought = _nth(friends[args[0]], args[1])
                if bought and not bought.returned:
                    commerce.cancel_order(bought.order)
                    bought.cancelled = True
            elif action == "return":
                bought = _nth(friends[args[0]], args[1])
                if bought and not bought.cancelled and not bought.returned:
                    line = bought.order.lines.get()
                    back = [commerce.ReturnLineInput(order_line_id=line.pk, quantity=1)]
                    commerce.record_return(bought.order, lines=back)
                    bought.returned = True
            elif action == "wait":
                clock += timedelta(days=args[0])
            else:
                due = {id(f) for f in friends if _due(f, clock)}
                services.reward_referrals(now=clock)
                for friend in friends:
                    if id(friend) in due:
                        friend.rewarded = True
                    self._check(friend)

        rewarded = [f for f in friends if f.rewarded]
        advocate.refresh_from_db()
        referral_points = PointsEntry.objects.filter(
            member=advocate, source_rule=services.REFERRAL
        ).values_list("points", flat=True)
        assert sum(referral_points) == REWARD * len(rewarded)
        assert len(referral_points) == len(rewarded)  # one ledger row per rewarded friend
        assert not friends[-1].rewarded  # never a self-referral
        assert (advocate.points_balance, advocate.pending_points) == selectors.ledger_sums(
            advocate.pk
        )

    def _check(self, friend: Friend) -> None:
        referral = Referral.objects.filter(friend=friend.customer).first()
        if referral is None:
            assert not friend.rewarded
            return
        assert (referral.status == ReferralStatus.REWARDED) == friend.rewarded
        rows = PointsEntry.objects.filter(key=f"referral:{referral.pk}").count()
        assert rows == (1 if friend.rewarded else 0)
        if friend.rewarded:
            assert referral.order == friend.first_order().order


def _nth(friend: Friend, n: int) -> Bought | None:
    return friend.orders[n] if n < len(friend.orders) else None


def _due(friend: Friend, now: datetime) -> bool:
    """What the rules say: a clean referral whose first order is kept and past its window."""
    if friend.referred_at is None or friend.flagged or friend.rewarded:
        return False
    first = friend.first_order()
    if first is None or first.cancelled or first.returned:
        return False
    return timezone.localtime(first.placed_at) + timedelta(days=WINDOW) <= now
