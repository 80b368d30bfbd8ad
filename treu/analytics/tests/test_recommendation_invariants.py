"""Hypothesis properties of the recommendations: for any purchase history the set-based
pair scores equal a plain Python count of the definition (hence symmetric, between 0 and 1,
never below the minimum support), a recommendation is never an owned durable nor an inactive
product, the many-customers selector agrees with the single one, and the quartiles are the
usual inclusive ones."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from datetime import UTC, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.analytics import selectors, services
from treu.analytics.models import RelatedProduct
from treu.analytics.recommendations.computation import HALF_LIFE_DAYS, MIN_SUPPORT, quantile
from treu.analytics.tests.helpers import berlin
from treu.analytics.tests.reco_helpers import buy, consumable, durable
from treu.commerce.models import Product
from treu.commerce.services import cancel_order
from treu.customers.tests.factories import CustomerFactory

NOW = berlin(2025, 6, 20, 12).astimezone(UTC)
PRODUCTS = 5
CUSTOMERS = 7

history = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=CUSTOMERS - 1),
        st.integers(min_value=1, max_value=900),  # days back
        st.sets(st.integers(min_value=0, max_value=PRODUCTS - 1), min_size=1, max_size=3),
        st.booleans(),  # cancelled
    ),
    max_size=16,
)
flags = st.tuples(
    st.lists(st.booleans(), min_size=PRODUCTS, max_size=PRODUCTS),  # durable?
    st.sets(st.integers(min_value=0, max_value=PRODUCTS - 1), max_size=2),  # inactive
)


def reference_scores(orders) -> dict[tuple[int, int], tuple[float, int]]:
    """docs/metrics.md: Σ min(w) / √(Σ w_x · Σ w_y) over customers, w = 0.5^(age / 180)."""
    last = {}
    for who, days, items, cancelled in orders:
        if cancelled:
            continue
        for p in items:
            last[(who, p)] = min(days, last.get((who, p), days))
    weight = {key: 0.5 ** (days / HALF_LIFE_DAYS) for key, days in last.items()}
    totals = defaultdict(float)
    by_customer = defaultdict(dict)
    for (who, p), w in weight.items():
        totals[p] += w
        by_customer[who][p] = w
    pairs: dict[tuple[int, int], list] = defaultdict(lambda: [0.0, 0])
    for bought in by_customer.values():
        for x in bought:
            for y in bought:
                if x != y:
                    pairs[(x, y)][0] += min(bought[x], bought[y])
                    pairs[(x, y)][1] += 1
    return {
        key: (w / math.sqrt(totals[key[0]] * totals[key[1]]), n)
        for key, (w, n) in pairs.items()
        if n >= MIN_SUPPORT
    }


class TestRecommendationProperties(TestCase):
    @given(history, flags)
    @settings(max_examples=25, deadline=None)
    def test_scores_and_recommendations_keep_their_promises(self, spec, product_flags):
        is_durable, inactive = product_flags
        products = [
            durable(f"D{i}") if is_durable[i] else consumable(f"C{i}") for i in range(PRODUCTS)
        ]
        people = [CustomerFactory() for _ in range(CUSTOMERS)]
        for who, days, items, cancelled in spec:
            placed = buy(people[who], NOW - timedelta(days=days), *(products[p] for p in items))
            if cancelled:
                cancel_order(placed)
        services.recompute_analytics(now=NOW)
        Product.objects.filter(pk__in=[products[i].pk for i in inactive]).update(active=False)

        index = {p.pk: i for i, p in enumerate(products)}
        got = {
            (index[r.product_id], index[r.related_id]): (r.score, r.support)
            for r in RelatedProduct.objects.all()
        }
        expected = reference_scores(spec)
        assert set(got) == set(expected)
        for key, (score, support) in got.items():
            assert score == pytest.approx(expected[key][0], rel=1e-6)
            assert support == expected[key][1] >= MIN_SUPPORT
            assert 0 < score <= 1 + 1e-9
            assert got[(key[1], key[0])][1] == support  # symmetric
            assert got[(key[1], key[0])][0] == pytest.approx(score, rel=1e-12)

        owned = defaultdict(set)
        for who, _days, items, cancelled in spec:
            if not cancelled:
                owned[people[who].pk] |= {products[p].pk for p in items}
        many = selectors.recommendations_for_customers([p.pk for p in people], limit=3)
        for person in people:
            recs = many[person.pk]
            assert recs == selectors.recommendations_for(person, limit=3)
            chosen = [r.product.pk for r in recs]
            assert len(chosen) == len(set(chosen)) <= 3
            for rec in recs:
                assert rec.product.active
                assert rec.product.is_consumable or rec.product.pk not in owned[person.pk]
            scores = [r.score for r in recs if not r.is_fallback]
            assert scores == sorted(scores, reverse=True)
            fallbacks = [r.is_fallback for r in recs]
            assert fallbacks == sorted(fallbacks)  # related ones first


@given(st.lists(st.integers(min_value=0, max_value=400), min_size=2, max_size=40))
def test_quartiles_are_the_inclusive_ones(values):
    hist = Counter(Fraction(v) for v in values)
    expected = statistics.quantiles(values, n=4, method="inclusive")
    got = [float(quantile(hist, Fraction(k, 4))) for k in (1, 2, 3)]
    assert got == pytest.approx(expected)
    assert quantile(hist, Fraction(1, 2)) == Fraction(statistics.median(values)).limit_denominator()
