"""Reads of the recommendations: related products, next-product recommendations per customer
(one or many at once), reorder intervals and expected run-out dates.

Everything reads the tables the recompute fills (a fixed number of queries, whatever the
number of customers asked about); nothing here touches the orders. Re-exported by
`treu.analytics.selectors`, which is where other apps import them from:

- `recommendations_for(customer, limit=3)` and `recommendations_for_customers(ids, limit=3)`
  for the messaging block "Produktempfehlungen" and the customer portal;
- `expected_runouts(customer)` and `customers_running_out(within_days=N)` for the
  customer page and the replenishment-reminder automation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from treu.analytics.computation import _run, _table
from treu.analytics.recommendations.models import (
    BestSeller,
    CustomerProduct,
    ProductReorder,
    RelatedProduct,
)
from treu.commerce import selectors as commerce_selectors
from treu.commerce.models import Product
from treu.customers import selectors as customer_selectors

CHUNK = 2_000  # customers per query of the set-based recommendations

RELATED = "related"
BESTSELLER = "bestseller"


@dataclass(frozen=True)
class Recommendation:
    product: Product
    source: str  # RELATED (from what the customer bought) or BESTSELLER (the fallback)
    score: float | None = None  # Σ over the customer's products of weight × related score

    @property
    def is_fallback(self) -> bool:
        return self.source == BESTSELLER


def recommendations_for(
    customer, *, limit: int = 3, new_only: bool = False
) -> list[Recommendation]:
    """The next products to show one customer, best first (see recommendations_for_customers)."""
    if customer.erased_at:
        return []
    return _recommend([customer.pk], limit=limit, new_only=new_only, erased=set())[customer.pk]


def recommendations_for_customers(
    customer_ids: Iterable[int], *, limit: int = 3, new_only: bool = False
) -> dict[int, list[Recommendation]]:
    """Up to `limit` products per customer: every id asked about is a key.

    A candidate's score is Σ w × score(x, candidate) over the products x the customer
    bought (w: the recency weight of their last purchase of x; score: the related-products
    score). Left out: products no longer active, durable goods the customer already owns
    (with `new_only`, anything they bought), and erased customers entirely (an empty list).
    Customers with fewer candidates than `limit` (no history at all, or a thin one) are
    filled up with the shop's best sellers of the last 90 days under the same exclusions.

    Four queries per 2,000 customers plus one for the products, whatever their histories:
    for an email campaign, call it with the recipients in batches of a few thousand.
    """
    return _recommend(customer_ids, limit=limit, new_only=new_only, erased=None)


def _recommend(
    customer_ids: Iterable[int], *, limit: int, new_only: bool, erased: set[int] | None
) -> dict[int, list[Recommendation]]:
    """`erased`: the erased customers among the ids when the caller knows them (else read)."""
    ids = list(dict.fromkeys(int(i) for i in customer_ids))
    result: dict[int, list[tuple[int, str, float | None]]] = {i: [] for i in ids}
    if limit < 1 or not ids:
        return {i: [] for i in ids}
    best = _best_seller_ids()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if erased is None:
            erased_here = set(
                customer_selectors.erased_customer_ids()
                .filter(pk__any_of=chunk)
                .values_list("pk", flat=True)
            )
        else:
            erased_here = erased & set(chunk)
        for customer_id, product_id, score in _related_candidates(chunk, limit, new_only):
            result[customer_id].append((product_id, RELATED, float(score)))
        short = [i for i in chunk if len(result[i]) < limit and i not in erased_here]
        if short and best:
            owned = _owned(short, new_only)
            for customer_id in short:
                picked = {p for p, _, _ in result[customer_id]} | owned.get(customer_id, set())
                for product_id in best:
                    if len(result[customer_id]) >= limit:
                        break
                    if product_id not in picked:
                        result[customer_id].append((product_id, BESTSELLER, None))
        for customer_id in erased_here:
            result[customer_id] = []
    products = commerce_selectors.products_by_id(
        {p for rows in result.values() for p, _, _ in rows}
    )
    return {
        customer_id: [
            Recommendation(products[p], source, score)
            for p, source, score in rows
            if p in products  # a product deleted since the recompute
        ]
        for customer_id, rows in result.items()
    }


def _related_candidates(customer_ids: list[int], limit: int, new_only: bool) -> list[tuple]:
    bought_sql, bought_params = (
        CustomerProduct.objects.filter(customer_id__any_of=customer_ids)
        .order_by()
        .values("customer_id", "product_id", "weight")
        .query.sql_with_params()
    )
    products_sql, products_params = commerce_selectors.product_facts().query.sql_with_params()
    cp, related = _table(CustomerProduct), _table(RelatedProduct)
    owned_ok = "" if new_only else "p.is_consumable OR "
    return _run(
        f"""
        WITH bought AS ({bought_sql}),
        candidates AS (
            SELECT b.customer_id, r.related_id AS product_id, SUM(b.weight * r.score) AS score
            FROM bought b JOIN {related} r ON r.product_id = b.product_id
            GROUP BY b.customer_id, r.related_id
        ),
        ranked AS (
            SELECT c.customer_id, c.product_id, c.score,
                   ROW_NUMBER() OVER (PARTITION BY c.customer_id
                                      ORDER BY c.score DESC, c.product_id) AS rn
            FROM candidates c JOIN ({products_sql}) p ON p.id = c.product_id
            WHERE p.active AND ({owned_ok}NOT EXISTS (
                SELECT 1 FROM {cp} o
                WHERE o.customer_id = c.customer_id AND o.product_id = c.product_id))
        )
        SELECT customer_id, product_id, score FROM ranked WHERE rn <= %s
        ORDER BY customer_id, rn
        """,  # noqa: S608 - compiled querysets and table names; values are parameters
        [*bought_params, *products_params, limit],
    )


def _best_seller_ids() -> list[int]:
    active = commerce_selectors.product_facts().filter(active=True).values("id")
    return list(
        BestSeller.objects.filter(product_id__in=active)
        .order_by("rank")
        .values_list("product_id", flat=True)
    )


def _owned(customer_ids: list[int], new_only: bool) -> dict[int, set[int]]:
    """Per customer the products a fallback must not offer: durables owned (or all bought)."""
    rows = CustomerProduct.objects.filter(customer_id__any_of=customer_ids)
    if not new_only:
        durables = commerce_selectors.product_facts().filter(is_consumable=False).values("id")
        rows = rows.filter(product_id__in=durables)
    owned: dict[int, set[int]] = {}
    for customer_id, product_id in rows.values_list("customer_id", "product_id"):
        owned.setdefault(customer_id, set()).add(product_id)
    return owned


# -- Products ---------------------------------------------------------------------------------


def related_products(product_id: int, *, limit: int | None = None) -> list[RelatedProduct]:
    """ "Kunden, die X kauften, kauften auch …": best first, with the related product loaded
    (inactive ones too: the back office marks them; recommendations leave them out)."""
    rows = RelatedProduct.objects.filter(product_id=product_id).select_related("related__category")
    return list(rows.order_by("rank")[:limit] if limit else rows.order_by("rank"))


def reorder_interval(product_id: int) -> ProductReorder | None:
    return ProductReorder.objects.filter(product_id=product_id).first()


def reorder_intervals() -> QuerySet[ProductReorder]:
    """Every consumable with an interval, with its product, by name (the analytics page, CSV)."""
    return ProductReorder.objects.select_related("product__category").order_by(
        "product__name", "product_id"
    )


def all_related_products() -> QuerySet[RelatedProduct]:
    """Every related pair with both products, for the CSV export."""
    return RelatedProduct.objects.select_related("product", "related").order_by(
        "product__name", "product_id", "rank"
    )


def best_sellers() -> QuerySet[BestSeller]:
    return BestSeller.objects.select_related("product").order_by("rank")


def products_with_related() -> QuerySet[Product]:
    """Products that have related products, for the picker on the recommendations page."""
    return commerce_selectors.product_list().filter(
        pk__in=RelatedProduct.objects.values("product_id")
    )


# -- Replenishment ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Runout:
    product: Product
    last_purchase_at: datetime
    last_quantity: int
    supply_days: int
    runout_at: datetime

    @property
    def runout_on(self) -> date:
        return timezone.localdate(self.runout_at)

    def days_left(self, today: date) -> int:
        return (self.runout_on - today).days


def expected_runouts(customer) -> list[Runout]:
    """When each consumable the customer buys probably runs out (soonest first): the last
    purchase plus its units × the product's days per unit. Erased customers have none."""
    rows = (
        CustomerProduct.objects.filter(customer_id=customer.pk, runout_at__isnull=False)
        .select_related("product")
        .order_by("runout_at", "product_id")
    )
    return [
        Runout(row.product, row.last_at, row.last_quantity, row.supply_days, row.runout_at)
        for row in rows
    ]


def customers_running_out(
    *,
    within_days: int,
    now: datetime | None = None,
    product_ids: Iterable[int] | None = None,
    category_ids: Iterable[int] | None = None,
) -> QuerySet:
    """(customer_id, product_id, runout_at) of the active consumables whose last purchase
    probably runs out from now until `within_days` days on, soonest first: the input of the
    replenishment reminder. Purchases already past their run-out are not in it (those
    customers are more likely lapsed than about to reorder). As of the last recompute.

    `customer_ids_running_out` gives the distinct customers as a subquery for a segment.
    """
    now = now or timezone.now()
    products = commerce_selectors.product_facts().filter(active=True, is_consumable=True)
    if product_ids is not None:
        products = products.filter(id__in=list(product_ids))
    if category_ids is not None:
        products = products.filter(category_id__in=list(category_ids))
    return (
        CustomerProduct.objects.filter(
            runout_at__gte=now,
            runout_at__lt=now + timedelta(days=within_days),
            product_id__in=products.values("id"),
        )
        .order_by("runout_at", "customer_id", "product_id")
        .values("customer_id", "product_id", "runout_at")
    )


def customer_ids_running_out(**kwargs) -> QuerySet:
    """The customers of `customers_running_out(**kwargs)`, as a subquery of ids."""
    return customers_running_out(**kwargs).order_by().values("customer_id").distinct()
