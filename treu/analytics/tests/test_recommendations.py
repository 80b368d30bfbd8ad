"""Recommendations and replenishment timing against hand-built purchase histories
(docs/metrics.md, "Empfehlungen und Nachkauf", has the same examples)."""

from __future__ import annotations

import math
from datetime import UTC, timedelta
from decimal import Decimal

import pytest

from treu.analytics import selectors, services
from treu.analytics.models import (
    BestSeller,
    CustomerProduct,
    ProductReorder,
    RelatedProduct,
)
from treu.analytics.recommendations import computation
from treu.analytics.recommendations.models import ReorderBasis
from treu.analytics.tests.helpers import berlin
from treu.analytics.tests.reco_helpers import buy, consumable, durable
from treu.commerce.models import Product
from treu.commerce.services import ReturnLineInput, cancel_order, record_return
from treu.commerce.tests.factories import CategoryFactory
from treu.core import privacy
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = berlin(2025, 6, 20, 12)
JUST_NOW = NOW - timedelta(microseconds=1)  # weight 1 to within 1e-13


def ago(days: float):
    # In UTC: days of 24 hours (Berlin wall-clock arithmetic would lose an hour to DST).
    return NOW.astimezone(UTC) - timedelta(days=days)


def recompute(now=NOW):
    return services.recompute_analytics(now=now)


def related(product) -> list[tuple[str, float, int]]:
    return [(r.related.sku, r.score, r.support) for r in selectors.related_products(product.pk)]


def customers(n: int):
    return [CustomerFactory() for _ in range(n)]


@pytest.fixture
def abc():
    return consumable("A"), consumable("B"), consumable("C")


# -- Related products ----------------------------------------------------------------------


def test_it_counts_pairs_over_whole_histories_not_only_baskets(abc):
    a, b, c = abc
    c1, c2, c3, c4, c5 = customers(5)
    buy(c1, JUST_NOW, a, b)
    buy(c1, JUST_NOW, c)  # another order: still a pair with A and with B
    buy(c2, JUST_NOW, a, b, c)
    buy(c3, JUST_NOW, a)
    buy(c3, JUST_NOW, c)
    buy(c4, JUST_NOW, a, b)
    buy(c5, JUST_NOW, b)
    recompute()
    # Buyers: A {1,2,3,4}, B {1,2,4,5}, C {1,2,3}. AB {1,2,4}: 3/√(4·4); AC {1,2,3}: 3/√(4·3);
    # BC {1,2}: below the minimum support of 3 customers, so no row either way.
    assert related(a) == [
        ("C", pytest.approx(3 / math.sqrt(12)), 3),
        ("B", pytest.approx(0.75), 3),
    ]
    assert related(b) == [("A", pytest.approx(0.75), 3)]
    assert related(c) == [("A", pytest.approx(3 / math.sqrt(12)), 3)]
    assert [r.rank for r in selectors.related_products(a.pk)] == [1, 2]


def test_it_weights_purchases_by_recency_with_a_half_life_of_180_days(abc):
    p, q, _ = abc
    c1, c2, c3 = customers(3)
    buy(c1, JUST_NOW, p, q)
    buy(c2, JUST_NOW, p, q)
    buy(c3, JUST_NOW, p)
    buy(c3, ago(180), q)  # counts half
    recompute()
    assert CustomerProduct.objects.get(customer=c3, product=q).weight == pytest.approx(0.5)
    # W_P = 3, W_Q = 2.5, the pair min(w_P, w_Q) summed = 1 + 1 + 0.5 = 2.5.
    assert related(p) == [("B", pytest.approx(2.5 / math.sqrt(3 * 2.5)), 3)]
    assert related(q) == [("A", pytest.approx(2.5 / math.sqrt(7.5)), 3)]


def test_recent_pairs_outrank_old_pairs_of_the_same_support(abc):
    a, b, c = abc
    for person in customers(3):
        buy(person, JUST_NOW, a, b)
    for person in customers(3):
        buy(person, JUST_NOW, a)
        buy(person, ago(720), c)  # four half-lives back: counts 1/16
    recompute()
    assert [sku for sku, _, _ in related(a)] == ["B", "C"]
    score_b, score_c = (s for _, s, _ in related(a))
    assert score_b == pytest.approx(3 / math.sqrt(6 * 3))
    assert score_c == pytest.approx((3 / 16) / math.sqrt(6 * 3 / 16))


def test_cancelled_orders_and_fully_returned_lines_do_not_count(abc):
    a, b, _ = abc
    c1, c2, c3, c4, c5 = customers(5)
    for person in (c1, c2, c3):
        buy(person, JUST_NOW, a, b)
    cancel_order(buy(c4, JUST_NOW, a, b), when=JUST_NOW)
    returned = buy(c5, JUST_NOW, a, (b, 2))
    line = returned.lines.get(sku="B")
    record_return(returned, lines=[ReturnLineInput(order_line_id=line.pk, quantity=2)])
    recompute()
    # A: c1, c2, c3, c5; B: c1, c2, c3 only.
    assert related(a) == [("B", pytest.approx(3 / math.sqrt(4 * 3)), 3)]
    assert not CustomerProduct.objects.filter(customer__in=[c4]).exists()
    assert list(
        CustomerProduct.objects.filter(customer=c5).values_list("product__sku", flat=True)
    ) == ["A"]


def test_a_partly_returned_line_counts_its_kept_units(abc):
    a, _, _ = abc
    anna = CustomerFactory()
    order = buy(anna, ago(10), (a, 3))
    record_return(order, lines=[ReturnLineInput(order_line_id=order.lines.get().pk, quantity=2)])
    recompute()
    row = CustomerProduct.objects.get(customer=anna, product=a)
    assert (row.units, row.last_quantity, row.supply_days) == (1, 1, 30)


def test_it_keeps_the_top_related_products_per_product(abc, monkeypatch):
    a, b, c = abc
    monkeypatch.setattr(computation, "TOP_RELATED", 1)
    for person in customers(3):
        buy(person, JUST_NOW, a, b, c)
    buy(CustomerFactory(), JUST_NOW, c)
    recompute()
    assert [sku for sku, _, _ in related(a)] == ["B"]  # 3/√9 beats C's 3/√12
    assert RelatedProduct.objects.filter(product=c).count() == 1


def test_erased_customers_histories_are_left_out(abc):
    a, b, _ = abc
    people = customers(3)
    for person in people:
        buy(person, JUST_NOW, a, b)
    privacy.erase_customer(people[0])
    recompute()
    assert related(a) == []  # two customers left: below the minimum support
    assert not CustomerProduct.objects.filter(customer=people[0]).exists()
    assert selectors.recommendations_for_customers([people[0].pk]) == {people[0].pk: []}
    people[0].refresh_from_db()
    assert selectors.recommendations_for(people[0]) == []


def test_a_recompute_replaces_the_previous_tables(abc):
    a, b, _ = abc
    for person in customers(3):
        buy(person, JUST_NOW, a, b)
    recompute()
    recompute()
    assert RelatedProduct.objects.count() == 2
    assert CustomerProduct.objects.count() == 6


# -- Recommendations per customer ----------------------------------------------------------


@pytest.fixture
def shop(abc):
    """A, B, C consumables and M a machine: A's buyers often buy B and M, some C."""
    a, b, c = abc
    m = durable("M")
    for person in customers(3):
        buy(person, JUST_NOW, a, b, m)
    for person in customers(3):
        buy(person, JUST_NOW, a, c)
    return a, b, c, m


def test_it_recommends_what_buyers_of_the_customers_products_bought(shop):
    a, b, c, m = shop
    anna = CustomerFactory()
    buy(anna, ago(180), a)  # her purchase counts half
    recompute()
    recs = selectors.recommendations_for(anna, limit=3)
    # Buyers: A 7 (anna too), B 3, C 3, M 3; AB, AC, AM each 3.
    expected = 0.5 * 3 / math.sqrt(6.5 * 3)
    assert [(r.product.sku, r.source) for r in recs] == [
        ("B", "related"),
        ("C", "related"),
        ("M", "related"),
    ]
    assert [r.score for r in recs] == [pytest.approx(expected)] * 3


def test_it_never_recommends_a_durable_the_customer_owns(shop):
    a, b, c, m = shop
    anna, ben = customers(2)
    buy(anna, JUST_NOW, a, m)
    buy(ben, JUST_NOW, a)
    recompute()
    assert "M" not in [r.product.sku for r in selectors.recommendations_for(anna, limit=5)]
    assert "M" in [r.product.sku for r in selectors.recommendations_for(ben, limit=5)]


def test_bought_consumables_may_come_again_unless_new_only(shop):
    a, b, c, m = shop
    anna = CustomerFactory()
    buy(anna, JUST_NOW, a, b)
    recompute()
    assert "A" in [r.product.sku for r in selectors.recommendations_for(anna, limit=5)]
    new = selectors.recommendations_for(anna, limit=5, new_only=True)
    assert {"A", "B"}.isdisjoint(r.product.sku for r in new)


def test_it_never_recommends_an_inactive_product(shop):
    a, b, c, m = shop
    anna = CustomerFactory()
    buy(anna, JUST_NOW, a)
    recompute()
    Product.objects.filter(pk=b.pk).update(active=False)
    skus = [r.product.sku for r in selectors.recommendations_for(anna, limit=5)]
    assert "B" not in skus and skus[:2] == ["C", "M"]


def test_without_history_it_falls_back_to_the_best_sellers_of_90_days(shop):
    a, b, c, m = shop
    old = consumable("OLD")
    for person in customers(5):
        buy(person, ago(91), old)  # many orders, but too long ago
    recompute()
    assert list(BestSeller.objects.values_list("product__sku", "orders", "units")) == [
        ("A", 6, 6),
        ("B", 3, 3),
        ("C", 3, 3),
        ("M", 3, 3),
    ]
    newcomer = CustomerFactory()
    recs = selectors.recommendations_for(newcomer, limit=2)
    assert [(r.product.sku, r.source, r.score) for r in recs] == [
        ("A", "bestseller", None),
        ("B", "bestseller", None),
    ]
    assert recs[0].is_fallback


def test_a_thin_history_is_filled_up_with_best_sellers_minus_owned_durables(shop):
    a, b, c, m = shop
    d = consumable("D")
    anna = CustomerFactory()
    buy(anna, JUST_NOW, d, m)  # D has no related products; she owns M
    recompute()
    recs = [(r.product.sku, r.source) for r in selectors.recommendations_for(anna, limit=4)]
    # From M: B (3/√(4·3)) before A (3/√(4·6)); then the best sellers A 6, M 4, B 3, C 3,
    # D 1 orders without those already there and the machine she owns.
    assert recs == [("B", "related"), ("A", "related"), ("C", "bestseller"), ("D", "bestseller")]


def test_the_set_based_selector_agrees_with_the_single_one(shop):
    a, b, c, m = shop
    anna, ben, cleo = customers(3)
    buy(anna, JUST_NOW, a, m)
    buy(ben, ago(30), b)
    recompute()
    many = selectors.recommendations_for_customers([anna.pk, ben.pk, cleo.pk], limit=3)
    assert list(many) == [anna.pk, ben.pk, cleo.pk]
    for person in (anna, ben, cleo):
        assert many[person.pk] == selectors.recommendations_for(person, limit=3)


def test_the_set_based_selector_takes_a_fixed_number_of_queries(
    shop, django_assert_max_num_queries
):
    people = customers(40)
    for i, person in enumerate(people):
        buy(person, ago(i), shop[i % 4])
    recompute()
    with django_assert_max_num_queries(6):
        recs = selectors.recommendations_for_customers([p.pk for p in people], limit=3)
    assert all(len(r) == 3 for r in recs.values())


def test_limit_zero_recommends_nothing(shop):
    assert selectors.recommendations_for(CustomerFactory(), limit=0) == []


# -- Replenishment ---------------------------------------------------------------------------


@pytest.fixture
def beans():
    """K: 5 observed reorders; L (same category): 1; T (another category): none."""
    coffee = CategoryFactory(name="Kaffee", slug="kaffee")
    k = consumable("K", category=coffee, interval=30)
    ell = consumable("L", category=coffee, interval=30)
    t = consumable("T", category=CategoryFactory(name="Tee", slug="tee"), interval=60)
    c1, c2, c3 = customers(3)
    start = ago(200)
    # c1: day 0 ×1, day 20 ×1, day 50 ×2, day 90 ×1 -> 20/1, 30/1, 40/2 days per unit
    for day, qty in ((0, 1), (20, 1), (50, 2), (90, 1)):
        buy(c1, start + timedelta(days=day), (k, qty))
    # c2: day 0, 25, 60 -> 25, 35; another bag an hour later is a top-up, no reorder
    for day in (0, 25, 60):
        buy(c2, start + timedelta(days=day), k)
    buy(c2, start + timedelta(days=60, hours=1), k)
    buy(c2, start + timedelta(days=60, hours=2), t)
    # c3: L on day 0 ×2 and day 100 ×1 -> 50 days per unit
    buy(c3, start + timedelta(days=0), (ell, 2))
    buy(c3, start + timedelta(days=100), ell)
    return k, ell, t, (c1, c2, c3), start


def test_reorder_interval_is_the_median_days_per_unit(beans):
    k, *_ = beans
    recompute()
    r = ProductReorder.objects.get(product=k)
    # Per unit: 20, 30, 20, 25, 35 -> sorted 20, 20, 25, 30, 35; gaps 20, 30, 40, 25, 35.
    assert (r.basis, r.observations, r.own_observations) == (ReorderBasis.PRODUCT, 5, 5)
    assert (r.days_per_unit, r.days_per_unit_p25, r.days_per_unit_p75) == (
        Decimal("25.0"),
        Decimal("20.0"),
        Decimal("30.0"),
    )
    assert r.median_interval_days == Decimal("30.0")


def test_too_few_reorders_fall_back_to_the_category_then_the_configured_interval(beans):
    k, ell, t, *_ = beans
    recompute()
    lr = ProductReorder.objects.get(product=ell)
    # The category pools K's five and L's one: 20, 20, 25, 30, 35, 50 -> median 27.5.
    assert (lr.basis, lr.observations, lr.own_observations) == (ReorderBasis.CATEGORY, 6, 1)
    assert lr.days_per_unit == Decimal("27.5")
    assert lr.days_per_unit_p25 == Decimal("21.3")  # 20 + 0.25 × (25 − 20)
    tr = ProductReorder.objects.get(product=t)
    assert (tr.basis, tr.days_per_unit, tr.observations) == (ReorderBasis.CONFIGURED, 60, 0)


def test_durables_and_consumables_without_any_interval_get_none(beans):
    m = durable("M")
    x = consumable("X", category=CategoryFactory(name="Neu", slug="neu"), interval=None)
    anna = CustomerFactory()
    buy(anna, ago(5), m, x)
    recompute()
    assert not ProductReorder.objects.filter(product__in=[m, x]).exists()
    assert selectors.expected_runouts(anna) == []


def test_each_customer_gets_the_run_out_of_their_last_purchase(beans):
    k, ell, t, (c1, c2, c3), start = beans
    recompute()
    [r1] = selectors.expected_runouts(c1)
    assert (r1.product, r1.last_quantity, r1.supply_days) == (k, 1, 25)
    assert r1.runout_at == start + timedelta(days=90 + 25)
    # c2: K bought last on day 60 (25 days per unit), T on day 60 (60 configured).
    runouts = selectors.expected_runouts(c2)
    assert [(r.product.sku, r.supply_days) for r in runouts] == [("K", 25), ("T", 60)]
    assert runouts[0].runout_at == start + timedelta(days=85, hours=1)
    assert runouts[0].runout_on == (start + timedelta(days=85)).astimezone(NOW.tzinfo).date()
    # c3: two units' worth? No: the last order had one unit of L at 27.5 -> 28 days.
    [r3] = selectors.expected_runouts(c3)
    assert (r3.last_quantity, r3.supply_days) == (1, 28)


def test_purchases_count_in_time_order_whatever_order_they_arrived_in():
    k = consumable("K", interval=30)
    anna = CustomerFactory()
    start = ago(100)
    buy(anna, start + timedelta(days=30), (k, 2))  # imported first
    buy(anna, start, k)  # the older purchase, imported later
    buy(anna, start + timedelta(days=30), k)  # the same moment again: another purchase
    recompute()
    cp = CustomerProduct.objects.get(customer=anna, product=k)
    assert (cp.orders, cp.units, cp.first_at, cp.last_at) == (3, 4, start, start + timedelta(30))
    # Of two orders at one moment the later one (by id) is the last: one bag, 30 days.
    assert (cp.last_quantity, cp.supply_days) == (1, 30)


def test_quantity_counts_two_bags_last_twice_as_long(beans):
    k, *_ = beans
    anna = CustomerFactory()
    buy(anna, ago(3), (k, 2))
    recompute()
    [r] = selectors.expected_runouts(anna)
    assert r.supply_days == 50 and r.runout_at == ago(3) + timedelta(days=50)


def test_customers_running_out_in_the_next_days(beans):
    k, ell, t, (c1, c2, c3), start = beans
    recompute()
    # Run-outs: c1 K day 115, c2 K day 85 and T day 120, c3 L day 128; NOW is day 200.
    at_day = start + timedelta(days=80)
    soon = list(selectors.customers_running_out(within_days=7, now=at_day))
    assert [(r["customer_id"], r["product_id"]) for r in soon] == [(c2.pk, k.pk)]
    later = selectors.customers_running_out(within_days=41, now=at_day)
    assert [(r["customer_id"], r["product_id"]) for r in later] == [
        (c2.pk, k.pk),
        (c1.pk, k.pk),
        (c2.pk, t.pk),
    ]
    tea_only = selectors.customers_running_out(
        within_days=41, now=at_day, category_ids=[t.category_id]
    )
    assert [r["product_id"] for r in tea_only] == [t.pk]
    # Already past the run-out: not "running out" any more.
    past = start + timedelta(days=86)
    assert (c2.pk, k.pk) not in {
        (r["customer_id"], r["product_id"])
        for r in selectors.customers_running_out(within_days=7, now=past)
    }
    ids = selectors.customer_ids_running_out(within_days=41, now=at_day)
    assert sorted(ids.values_list("customer_id", flat=True)) == sorted([c1.pk, c2.pk])


def test_inactive_products_and_erased_customers_get_no_reminder(beans):
    k, ell, t, (c1, c2, c3), start = beans
    privacy.erase_customer(c1)
    recompute()
    Product.objects.filter(pk=t.pk).update(active=False)
    at_day = start + timedelta(days=80)
    rows = selectors.customers_running_out(within_days=60, now=at_day)
    assert [(r["customer_id"], r["product_id"]) for r in rows] == [(c2.pk, k.pk), (c3.pk, ell.pk)]
    assert selectors.expected_runouts(c1) == []


# -- Privacy and merging ---------------------------------------------------------------------


def test_a_customers_purchase_history_is_exported_and_erased(abc):
    a, _, _ = abc
    anna = CustomerFactory()
    buy(anna, ago(3), (a, 2))
    recompute()
    exported = privacy.export_customer(anna)["analytics.CustomerProduct"]
    assert [(row["product__sku"], row["units"]) for row in exported] == [("A", 2)]
    privacy.erase_customer(anna)
    assert not CustomerProduct.objects.filter(customer=anna).exists()


def test_merging_customers_drops_the_duplicates_history_until_the_next_recompute(abc):
    from treu.customers.services import merge_customers

    a, b, _ = abc
    anna, ben = customers(2)
    buy(anna, ago(20), a)
    buy(ben, ago(10), a, b)
    recompute()
    merge_customers(survivor=anna, duplicate=ben)
    assert set(CustomerProduct.objects.values_list("customer_id", flat=True)) == {anna.pk}
    recompute()
    rows = CustomerProduct.objects.filter(customer=anna).order_by("product__sku")
    assert [(r.product.sku, r.orders) for r in rows] == [("A", 2), ("B", 1)]
