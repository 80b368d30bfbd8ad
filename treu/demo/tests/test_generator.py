from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date
from itertools import pairwise

import pytest
from django.db.models import Sum

from treu.commerce import services as commerce_services
from treu.commerce.models import Order, OrderStatus, Return
from treu.core.money import tax_from_gross
from treu.core.roles import role_of
from treu.customers.models import Customer, Note
from treu.customers.selectors import customer_timeline
from treu.customers.services import create_customer
from treu.demo import DEMO_LOGINS, DEMO_PASSWORD
from treu.demo.fingerprint import fingerprint
from treu.demo.generator import (
    DemoError,
    DemoOptions,
    DemoStep,
    _steps,
    build_demo,
    register_step,
    reset_demo,
)

UNTIL = date(2025, 6, 30)
pytestmark = pytest.mark.django_db


def build(customers: int = 250, seed: int = 42, until: date = UNTIL):
    return build_demo(DemoOptions(customers=customers, seed=seed, years=3, until=until))


@pytest.fixture
def shop_250():
    return build(250)


def test_same_seed_and_until_build_the_same_shop_and_another_seed_does_not():
    build(150)
    first = fingerprint()
    reset_demo()
    build(150)
    assert fingerprint() == first
    reset_demo()
    build(150, seed=7)
    assert fingerprint()["hash"] != first["hash"]
    assert first["counts"]["customers"] == 150


def test_most_buyers_buy_once_and_a_core_of_regulars_reorders_every_three_to_six_weeks(shop_250):
    buyers = Customer.objects.filter(order_count__gt=0)
    one_time = buyers.filter(order_count=1).count()
    assert one_time / buyers.count() > 0.5
    regulars = buyers.filter(order_count__gte=6)
    assert 0.05 < regulars.count() / buyers.count() < 0.3
    placed = defaultdict(list)
    for customer_id, at in (
        Order.objects.filter(customer__in=regulars)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by("customer_id", "placed_at")
        .values_list("customer_id", "placed_at")
    ):
        placed[customer_id].append(at)
    gaps = [(b - a).days for times in placed.values() for a, b in pairwise(times)]
    assert 21 <= statistics.median(gaps) <= 45


def test_december_brings_more_revenue_than_an_average_month(shop_250):
    for year in (2023, 2024):  # the full years of the history
        orders = Order.objects.exclude(status=OrderStatus.CANCELLED).filter(placed_at__year=year)
        yearly = orders.aggregate(s=Sum("total_cents"))["s"]
        december = orders.filter(placed_at__month=12).aggregate(s=Sum("total_cents"))["s"]
        assert december > yearly / 12


def test_a_few_percent_of_orders_come_back_with_a_reason(shop_250):
    rate = Return.objects.count() / Order.objects.count()
    assert 0.01 <= rate <= 0.08
    assert all(r.reason and r.refunded_at > r.order.placed_at for r in Return.objects.all())
    assert Order.objects.filter(status=OrderStatus.CANCELLED).exists()


def test_every_order_adds_up_like_commerce_would_compute_it(shop_250):
    orders = Order.objects.prefetch_related("lines", "returns__lines")
    for order in orders:
        lines = list(order.lines.all())
        assert order.subtotal_cents == sum(line.total_cents for line in lines)
        assert (
            order.total_cents == order.subtotal_cents + order.shipping_cents - order.discount_cents
        )
        assert order.net_cents == order.total_cents - order.tax_cents
        for line in lines:
            assert line.total_cents == line.quantity * line.unit_price_cents - line.discount_cents
            assert line.tax_cents == tax_from_gross(line.total_cents, line.tax_rate_bp)
        expected_tax = commerce_services._order_tax(
            commerce_services.OrderInput(
                shop=order.shop,
                external_id=order.external_id,
                placed_at=order.placed_at,
                total_cents=order.total_cents,
                shipping_cents=order.shipping_cents,
                discount_cents=order.discount_cents,
                lines=[
                    commerce_services.LineInput(
                        title=line.title,
                        quantity=line.quantity,
                        unit_price_cents=line.unit_price_cents,
                        tax_rate_bp=line.tax_rate_bp,
                    )
                    for line in lines
                ],
            )
        )
        assert order.tax_cents == min(expected_tax, order.total_cents)
        returns = list(order.returns.all())
        assert order.refunded_cents == sum(r.amount_cents for r in returns) <= order.total_cents
        for r in returns:
            assert r.amount_cents == r.shipping_refund_cents + sum(
                rl.amount_cents for rl in r.lines.all()
            )
        if order.shop.is_store:
            assert order.shipping_cents == 0


def test_customer_summaries_equal_what_commerce_recomputes(shop_250):
    fields = ("first_order_at", "last_order_at", "order_count", "total_spent_cents")
    before = {c["pk"]: c for c in Customer.objects.values("pk", *fields)}
    for pk in before:
        commerce_services.refresh_customer_summary(pk)
    after = {c["pk"]: c for c in Customer.objects.values("pk", *fields)}
    assert after == before
    assert Customer.objects.filter(order_count__gte=2).exists()


def test_the_timeline_tells_each_customers_history(shop_250):
    for customer in Customer.objects.all()[:60]:
        kinds = [item.event.kind for item in customer_timeline(customer, limit=500)]
        assert kinds.count("customer.created") == 1
        assert kinds.count("order.ingested") == customer.orders.count()
        assert (
            kinds.count("order.refunded") == Return.objects.filter(order__customer=customer).count()
        )
        assert kinds.count("order.cancelled") == customer.orders.filter(status="cancelled").count()
    order = Order.objects.filter(returns__isnull=False).first()
    ingested = order.customer.events.get(kind="order.ingested", payload__order_id=order.pk)
    assert ingested.payload == {
        "order_id": order.pk,
        "number": order.number,
        "shop": order.shop.name,
        "status": "paid",
        "total_cents": order.total_cents,
        "item_count": sum(line.quantity for line in order.lines.all()),
    }
    ret = order.returns.get()
    refunded = order.customer.events.get(kind="order.refunded", payload__order_id=order.pk)
    assert refunded.payload["return_id"] == ret.pk
    assert refunded.payload["amount_cents"] == ret.amount_cents
    assert refunded.occurred_at == ret.refunded_at
    note = Note.objects.first()
    if note is not None:
        event = note.customer.events.get(kind="customer.note_added", payload__note_id=note.pk)
        assert event.payload["text"] == note.text


def test_history_ends_before_the_until_day_and_customers_come_before_their_orders(shop_250):
    assert not Order.objects.filter(placed_at__date__gte=UNTIL).exists()
    assert not Order.objects.filter(delivered_at__date__gte=UNTIL).exists()
    assert not Return.objects.filter(refunded_at__date__gte=UNTIL).exists()
    for customer in Customer.objects.exclude(first_order_at=None):
        assert customer.created_at <= customer.first_order_at
    recent = Order.objects.exclude(status__in=[OrderStatus.DELIVERED, OrderStatus.CANCELLED])
    assert all((UNTIL - o.placed_at.date()).days <= 6 for o in recent)


def test_customers_look_german_and_have_unique_lower_case_emails(shop_250):
    emails = list(Customer.objects.exclude(email=None).values_list("email", flat=True))
    assert len(emails) == len(set(emails)) > 200
    assert all(e == e.lower() and "@" in e for e in emails)
    assert Customer.objects.filter(language="de").count() > 200
    assert Customer.objects.filter(source_channel="store").exists()
    assert Customer.objects.exclude(search_first_last="").count() == 250


def test_customer_numbers_continue_after_the_demo(shop_250):
    assert Customer.objects.order_by("number").values_list("number", flat=True)[0] == 10001
    customer = create_customer(first_name="Neu", last_name="Kundin")
    assert customer.number == 10001 + 250


def test_demo_logins_sign_in_with_their_role(client, shop_250):
    from django.contrib.auth import get_user_model

    for login in DEMO_LOGINS:
        assert client.login(username=login.username, password=DEMO_PASSWORD)
        user = get_user_model().objects.get(username=login.username)
        assert role_of(user) == login.role
        client.logout()


def test_it_refuses_to_build_over_existing_customers(shop_250):
    with pytest.raises(DemoError):
        build(10)


def test_it_refuses_a_future_until():
    with pytest.raises(DemoError):
        build(10, until=date(2999, 1, 1))


def test_reset_refuses_when_a_real_shops_orders_exist(shop_250):
    from treu.commerce.tests.factories import ShopFactory, make_order

    make_order(shop=ShopFactory(code="woo", name="Woo"))
    with pytest.raises(DemoError):
        reset_demo()
    assert Customer.objects.count() == 250


def test_registered_steps_see_each_chunk_and_can_reset():
    seen = []
    register_step(
        DemoStep(
            name="zz-test",
            chunk=lambda ctx: seen.append((len(ctx.customers), ctx.rng.random())),
            reset=lambda: seen.append("reset"),
        )
    )
    try:
        build(20)
        reset_demo()
    finally:
        _steps.pop("zz-test")
    assert seen[0][0] == 20 and seen[-1] == "reset"


def test_the_demo_runs_a_loyalty_programme_whose_figures_add_up(shop_250):
    from treu.loyalty import selectors as loyalty_selectors
    from treu.loyalty.models import (
        Member,
        MemberTier,
        PointsEntry,
        Redemption,
        Referral,
        ReferralStatus,
        StampCard,
    )

    program = loyalty_selectors.program_settings()
    assert program.point_name == "Bohnen" and program.created_at.date() < UNTIL
    members = list(Member.objects.all())
    assert len(members) > 50
    for member in members:  # balance = ledger sum, for every member
        assert (member.points_balance, member.pending_points) == loyalty_selectors.ledger_sums(
            member.pk
        )
    # Points come from orders placed since the start, through the awarding service.
    earned = PointsEntry.objects.filter(kind="earn", order__isnull=False)
    assert earned.exists() and not earned.filter(order__placed_at__lt=program.created_at).exists()
    assert not earned.filter(order__status=OrderStatus.CANCELLED).exists()
    assert PointsEntry.objects.filter(kind="adjust").exclude(reason="").exists()
    assert Redemption.objects.count() > 0
    assert MemberTier.objects.filter(tier__isnull=False).count() > 0
    assert Referral.objects.filter(status=ReferralStatus.REVIEW).count() == 1
    assert StampCard.objects.exists()
    reset_demo()
    assert not Member.objects.exists() and not Referral.objects.exists()
    build(100)  # the catalogue, tiers and card type are reused, not made twice
    assert Member.objects.exists() and Redemption.objects.exists()
