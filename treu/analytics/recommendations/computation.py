"""The recommendations' part of the recompute: purchase histories, related products,
reorder intervals and best sellers, in a fixed number of set-based statements.

1. One statement reads the order lines (commerce.selectors.live_line_facts: live orders,
   returned units left out) of customers who are not erased, groups them per customer,
   product and order, and with one window pass over those groups notes the gap in days to
   the customer's previous purchase of the product, the units bought then, and whether it
   is the last purchase: a temporary work table.
2. Its gaps, grouped into a histogram per (product, gap, units), are a few thousand rows;
   Python takes medians and quartiles of days per unit from them (`ProductReorder`, with
   the category and the configured interval as fallbacks).
3. One GROUP BY over the work table writes `CustomerProduct` (one row per customer and
   product: first and last purchase, units, recency weight, for consumables the expected
   run-out).
4. A self-join of `CustomerProduct` on the customer counts every pair of products bought
   by one customer (at any time, not only in one basket), keeps pairs with at least
   MIN_SUPPORT customers, scores them (recency-weighted cosine) and keeps the TOP_RELATED
   best per product (`RelatedProduct`).
5. One GROUP BY over the last 90 days' lines ranks the best sellers (`BestSeller`).

Definitions and examples: docs/metrics.md, "Empfehlungen und Nachkauf".
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db import connection

from treu.analytics.computation import _run, _table
from treu.analytics.recommendations.models import (
    BestSeller,
    CustomerProduct,
    ProductReorder,
    RelatedProduct,
    ReorderBasis,
)
from treu.commerce import selectors as commerce_selectors
from treu.customers import selectors as customer_selectors

HALF_LIFE_DAYS = 180  # a purchase half a year old counts half
MIN_SUPPORT = 3  # customers who bought both, before a pair is shown at all
TOP_RELATED = 10  # related products kept per product
MIN_REORDERS = 5  # observed reorders before a product's own interval is trusted
BESTSELLER_DAYS = 90
BESTSELLERS = 20

MODELS = (CustomerProduct, RelatedProduct, ProductReorder, BestSeller)
WORK = "analytics_reco_purchases"  # temporary: one row per customer, product and order


@dataclass(frozen=True)
class RecoComputed:
    customer_products: int
    pairs: int
    reorder_products: int


def clear() -> None:
    tables = [_table(model) for model in MODELS]
    if connection.vendor == "postgresql":
        _run(f"TRUNCATE {', '.join(tables)}")
        return
    for table in tables:
        _run(f"DELETE FROM {table}")  # noqa: S608 - our own table names


def _float() -> str:
    return "DOUBLE PRECISION" if connection.vendor == "postgresql" else "REAL"


def _epoch_days(column: str) -> str:
    """A timestamp as (fractional) days since 1970-01-01 UTC: plain numbers for the gaps and
    ages, so no row's timestamp is parsed twice."""
    if connection.vendor == "postgresql":
        return f"(CAST(EXTRACT(EPOCH FROM {column}) AS DOUBLE PRECISION) / 86400.0)"
    return f"(julianday({column}) - 2440587.5)"


def _plus_days(column: str, days: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} + ({days}) * INTERVAL '1 day')"
    return f"datetime({column}, '+' || ({days}) || ' days')"


def compute(*, now: datetime) -> RecoComputed:
    """Fill the recommendation tables from the orders placed before `now` (cleared first)."""
    clear()
    if connection.vendor == "postgresql":
        # The sorts of a million lines spill to disk at the default 4 MB (this transaction
        # only); the JIT would compile statements that run once.
        _run("SET LOCAL work_mem = '128MB'")
        _run("SET LOCAL jit = off")
    products = list(commerce_selectors.product_facts())
    _fill_work_table(now)
    if connection.vendor == "postgresql":
        _run(f"ANALYZE {WORK}")  # temporary tables get no statistics otherwise
    try:
        reorders = _reorder_intervals(products)
        ProductReorder.objects.bulk_create(reorders, batch_size=500)
        with _sorted_grouping():
            _customer_products(now)
        _related_products()
    finally:
        _run(f"DROP TABLE IF EXISTS {WORK}")
    _best_sellers(now)
    return RecoComputed(
        customer_products=CustomerProduct.objects.count(),
        pairs=RelatedProduct.objects.count(),
        reorder_products=len(reorders),
    )


@contextmanager
def _sorted_grouping():
    """PostgreSQL: group by sorting, not hashing, for the statements inside. Its estimate of
    the groups of a million lines is a sixth of the truth, so it hashes them (spilling
    past work_mem) and then sorts them for the window anyway; sorted, one sort serves the
    GROUP BY and the window: a fifth less CPU for the purchase histories (measured as the
    server process's CPU time at 1.24 million lines), a sixth for `CustomerProduct`."""
    if connection.vendor != "postgresql":
        yield
        return
    _run("SET LOCAL enable_hashagg = off")
    try:
        yield
    finally:
        _run("SET LOCAL enable_hashagg TO DEFAULT")


def _kept_units(lines) -> tuple[str, list]:
    """The lines as SQL with `quantity` = the units kept (ordered less returned)."""
    lines_sql, lines_params = lines.query.sql_with_params()
    returned_sql, returned_params = (
        commerce_selectors.returned_line_quantities().query.sql_with_params()
    )
    return (
        "(SELECT l.customer_id, l.product_id, l.order_id, l.placed_at,"  # noqa: S608
        " l.quantity - COALESCE(r.returned, 0) AS quantity"
        f" FROM ({lines_sql}) l LEFT JOIN ({returned_sql}) r ON r.order_line_id = l.id)",
        [*lines_params, *returned_params],
    )


def _fill_work_table(now: datetime) -> None:
    """One row per customer, product and order, with the gap to the customer's previous
    purchase of the product, the units bought then, and whether it is the last purchase:
    one GROUP BY and one window pass over the order lines, in one statement.

    The groups are keyed (customer, product, placed_at, order) — an order has one
    placed_at, so these are the groups of (customer, product, order) — and the window runs
    in exactly that order, so the million rows are sorted once, for the GROUP BY, and the
    window reads them as they come (grouped by order alone and the window ordered by time,
    SQLite sorted them twice: a third of the statement's time). On SQLite the table is
    keyed in that order too (WITHOUT ROWID), so `_customer_products` groups it without
    sorting it again.
    """
    facts_sql, facts_params = _kept_units(commerce_selectors.live_line_facts())
    erased_sql, erased_params = customer_selectors.erased_customer_ids().query.sql_with_params()
    if connection.vendor == "postgresql":
        timestamp, key = "TIMESTAMP WITH TIME ZONE", ""
    else:
        timestamp = "DATETIME"
        key = ", PRIMARY KEY (customer_id, product_id, placed_at, order_id)) WITHOUT ROWID"
    _run(f"DROP TABLE IF EXISTS {WORK}")
    _run(
        f"CREATE TEMPORARY TABLE {WORK} (customer_id BIGINT NOT NULL, product_id BIGINT NOT NULL,"
        f" placed_at {timestamp} NOT NULL, order_id BIGINT NOT NULL, day {_float()} NOT NULL,"
        " quantity BIGINT NOT NULL, gap BIGINT, previous_quantity BIGINT,"
        f" is_last INTEGER NOT NULL{key or ')'}"
    )
    with _sorted_grouping():
        _insert_purchases(facts_sql, [*facts_params, *erased_params], erased_sql, now)


def _insert_purchases(facts_sql: str, params: list, erased_sql: str, now: datetime) -> None:
    day = _epoch_days("f.placed_at")
    window = "PARTITION BY f.customer_id, f.product_id ORDER BY f.placed_at, f.order_id"
    # Orders placed after `now` are left out by HAVING, not WHERE: see live_line_facts.
    _run(
        f"INSERT INTO {WORK} (customer_id, product_id, placed_at, order_id, day, quantity,"  # noqa: S608
        " gap, previous_quantity, is_last)"
        f" SELECT f.customer_id, f.product_id, f.placed_at, f.order_id, {day}, SUM(f.quantity),"
        f" CAST(ROUND({day} - LAG({day}) OVER w) AS INTEGER),"
        " LAG(SUM(f.quantity)) OVER w,"
        " CASE WHEN LEAD(f.order_id) OVER w IS NULL THEN 1 ELSE 0 END"
        f" FROM (SELECT facts.* FROM {facts_sql} facts"
        f" WHERE facts.customer_id IS NOT NULL AND facts.customer_id NOT IN ({erased_sql})) f"
        " GROUP BY f.customer_id, f.product_id, f.placed_at, f.order_id"
        " HAVING SUM(f.quantity) > 0 AND f.placed_at < %s"
        f" WINDOW w AS ({window})",
        [*params, connection.ops.adapt_datetimefield_value(now)],
    )


# -- Reorder intervals -------------------------------------------------------------------------


def _reorder_intervals(products: list[dict]) -> list[ProductReorder]:
    """Per consumable: days per unit from its own reorders, else its category's, else the
    interval set on the product; nothing when none of the three is there."""
    rows = _run(
        f"SELECT product_id, gap, previous_quantity, COUNT(*) FROM {WORK}"  # noqa: S608
        " WHERE gap >= 1 GROUP BY product_id, gap, previous_quantity"
    )
    consumables = {p["id"]: p for p in products if p["is_consumable"]}
    per_unit: dict[int, Counter] = defaultdict(Counter)
    gaps: dict[int, Counter] = defaultdict(Counter)
    for product_id, days, quantity, n in rows:
        if product_id in consumables:
            per_unit[product_id][Fraction(int(days), int(quantity))] += n
            gaps[product_id][Fraction(int(days))] += n
    by_category: dict[int, tuple[Counter, Counter]] = defaultdict(lambda: (Counter(), Counter()))
    for product_id, hist in per_unit.items():
        category = consumables[product_id]["category_id"]
        if category is not None:
            by_category[category][0].update(hist)
            by_category[category][1].update(gaps[product_id])
    out = []
    for product_id, product in consumables.items():
        own = sum(per_unit[product_id].values())
        pooled = by_category.get(product["category_id"])
        if own >= MIN_REORDERS:
            basis, units, intervals = ReorderBasis.PRODUCT, per_unit[product_id], gaps[product_id]
        elif pooled is not None and sum(pooled[0].values()) >= MIN_REORDERS:
            basis, (units, intervals) = ReorderBasis.CATEGORY, pooled
        elif product["reorder_interval_days"]:
            configured = Decimal(product["reorder_interval_days"])
            out.append(
                ProductReorder(
                    product_id=product_id,
                    basis=ReorderBasis.CONFIGURED,
                    observations=0,
                    own_observations=own,
                    median_interval_days=None,
                    days_per_unit=configured,
                )
            )
            continue
        else:
            continue
        out.append(
            ProductReorder(
                product_id=product_id,
                basis=basis,
                observations=sum(units.values()),
                own_observations=own,
                median_interval_days=_decimal(quantile(intervals, Fraction(1, 2))),
                days_per_unit=_decimal(quantile(units, Fraction(1, 2))),
                days_per_unit_p25=_decimal(quantile(units, Fraction(1, 4))),
                days_per_unit_p75=_decimal(quantile(units, Fraction(3, 4))),
            )
        )
    return out


def quantile(hist: Counter, q: Fraction) -> Fraction:
    """The q-quantile of a histogram {value: count}, interpolating between the two nearest
    ranks (h = (n − 1) · q; Excel's QUANTIL.INKL, numpy's default). Exact with Fractions.

    q = 1/2 is the usual median: the middle value, or the mean of the two middle ones.
    """
    n = sum(hist.values())
    if not n:
        raise ValueError("empty histogram")
    h = (n - 1) * q
    lower_rank = math.floor(h)
    fraction = h - lower_rank
    lower = upper = None
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if lower is None and seen > lower_rank:
            lower = value
        if seen > lower_rank + 1 or (seen > lower_rank and fraction == 0):
            upper = value
            break
    if upper is None:  # lower_rank is the last rank
        upper = lower
    return lower + (upper - lower) * fraction


def _decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


# -- Customer products, related products, best sellers ---------------------------------------


def _customer_products(now: datetime) -> None:
    cp, reorder = _table(CustomerProduct), _table(ProductReorder)
    weight = f"CAST(POWER(0.5, (%s - g.last_day) / {HALF_LIFE_DAYS}) AS {_float()})"
    supply = "CAST(ROUND(r.days_per_unit * g.last_quantity) AS INTEGER)"
    _run(
        f"""
        INSERT INTO {cp} (customer_id, product_id, first_at, last_at, orders, units,
                          last_quantity, weight, supply_days, runout_at)
        SELECT g.customer_id, g.product_id, g.first_at, g.last_at, g.n, g.units,
               g.last_quantity, {weight}, {supply}, {_plus_days("g.last_at", supply)}
        FROM (
            SELECT customer_id, product_id, MIN(placed_at) AS first_at,
                   MAX(placed_at) AS last_at, MAX(day) AS last_day, COUNT(*) AS n,
                   SUM(quantity) AS units,
                   SUM(CASE WHEN is_last = 1 THEN quantity ELSE 0 END) AS last_quantity
            FROM {WORK} GROUP BY customer_id, product_id
        ) g LEFT JOIN {reorder} r ON r.product_id = g.product_id
        """,  # noqa: S608 - table names and fixed SQL; the moment is a parameter
        [now.timestamp() / 86400],
    )


def _related_products() -> None:
    """Item-item co-occurrence over customers' histories, scored by the weighted cosine

        score(x, y) = Σ_c min(w_cx, w_cy) / √(Σ_c w_cx · Σ_c w_cy)

    (w = the recency weight of the customer's last purchase of the product; with every
    w = 1 the plain cosine |X ∩ Y| / √(|X| · |Y|) of the two sets of buyers). Symmetric.
    """
    cp, related = _table(CustomerProduct), _table(RelatedProduct)
    score = "sym.w / SQRT(tp.w * tq.w)"
    _run(
        f"""
        WITH pairs AS (
            SELECT a.product_id AS p, b.product_id AS q, COUNT(*) AS n,
                   SUM(CASE WHEN a.weight < b.weight THEN a.weight ELSE b.weight END) AS w
            FROM {cp} a JOIN {cp} b
              ON b.customer_id = a.customer_id AND b.product_id > a.product_id
            GROUP BY a.product_id, b.product_id
            HAVING COUNT(*) >= %s
        ),
        totals AS (SELECT product_id, SUM(weight) AS w FROM {cp} GROUP BY product_id),
        sym AS (SELECT p, q, n, w FROM pairs UNION ALL SELECT q, p, n, w FROM pairs),
        ranked AS (
            SELECT sym.p, sym.q, sym.n, {score} AS score,
                   ROW_NUMBER() OVER (PARTITION BY sym.p ORDER BY {score} DESC, sym.n DESC, sym.q)
                       AS rn
            FROM sym JOIN totals tp ON tp.product_id = sym.p
                     JOIN totals tq ON tq.product_id = sym.q
        )
        INSERT INTO {related} (product_id, related_id, "rank", score, support)
        SELECT p, q, rn, score, n FROM ranked WHERE rn <= %s
        """,  # noqa: S608 - table names and fixed SQL; the limits are parameters
        [MIN_SUPPORT, TOP_RELATED],
    )


def _best_sellers(now: datetime) -> None:
    facts_sql, params = _kept_units(
        commerce_selectors.live_line_facts(
            placed_before=now, placed_since=now - timedelta(days=BESTSELLER_DAYS)
        )
    )
    # Grouped by `+product_id`, not the bare column: SQLite (no statistics) would otherwise
    # walk all lines in the product index's order to save the GROUP BY's sort of a few
    # hundred thousand rows, instead of finding the window's orders by their time (4.2 s
    # against 2.8 s at a million orders; PostgreSQL plans by its statistics either way).
    rows = _run(
        "SELECT +f.product_id, COUNT(DISTINCT f.order_id), SUM(f.quantity)"  # noqa: S608
        f" FROM {facts_sql} f WHERE f.quantity > 0 GROUP BY +f.product_id"
        f" ORDER BY 2 DESC, 3 DESC, 1 LIMIT {BESTSELLERS}",
        params,
    )
    BestSeller.objects.bulk_create(
        BestSeller(product_id=product_id, rank=rank, orders=orders, units=units)
        for rank, (product_id, orders, units) in enumerate(rows, start=1)
    )
