"""Reads of commerce data: order and product lists, the order page and the dashboard figures.

Every figure is one aggregate query on indexed columns; nothing loops over all orders.
Revenue is what the business keeps: gross total less refunds, cancelled orders excluded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db.models import (
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from treu.commerce.models import (
    Category,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Return,
    ReturnLine,
    Shop,
)

LIVE = ~Q(status=OrderStatus.CANCELLED)
REVENUE = F("total_cents") - F("refunded_cents")


# -- Orders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFilters:
    query: str = ""
    status: str = ""
    shop_id: int | None = None
    placed_after: datetime | None = None
    placed_before: datetime | None = None


def order_list(filters: OrderFilters) -> QuerySet[Order]:
    """Newest first; the search matches the start of the order number, with or without '#'."""
    qs = Order.objects.select_related("customer", "shop")
    query = filters.query.strip()
    if query:
        bare = query.lstrip("#")
        qs = qs.filter(Q(number__startswith=query) | Q(number__startswith=f"#{bare}"))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.shop_id:
        qs = qs.filter(shop_id=filters.shop_id)
    if filters.placed_after:
        qs = qs.filter(placed_at__gte=filters.placed_after)
    if filters.placed_before:
        qs = qs.filter(placed_at__lt=filters.placed_before)
    return qs.order_by("-placed_at", "-id")


def shops() -> QuerySet[Shop]:
    return Shop.objects.order_by("name")


def order_by_external_id(shop: Shop, external_id: str) -> Order | None:
    """A shop's order by the shop's own id, with its lines; None when not (yet) known."""
    return (
        Order.objects.filter(shop=shop, external_id=external_id).prefetch_related("lines").first()
    )


def lines_of_orders(order_ids: list[int], *, lock: bool = False) -> QuerySet[OrderLine]:
    """The lines of many orders with their order, in order: one query (loyalty's batch award).

    `lock` holds the orders (not the lines) until the caller's transaction ends, as
    `cancel_order` and `record_return` do: what the caller writes about them then
    happens wholly before or wholly after a cancellation or return.
    """
    qs = (
        OrderLine.objects.filter(order_id__any_of=order_ids)
        .select_related("order")
        # What points are computed from; other fields load on access. A batch reads
        # thousands of lines: each field left out saves a value per instance.
        .only(*_LINE_FIGURES, *(f"order__{name}" for name in _ORDER_FIGURES))
        .order_by("order_id", "id")
    )
    return qs.select_for_update(of=("order",)) if lock else qs


_LINE_FIGURES = ("order_id", "sku", "quantity", "total_cents", "tax_rate_bp", "tax_cents")
_ORDER_FIGURES = (
    "customer_id", "shop_id", "number", "status", "placed_at", "delivered_at", "total_cents",
    "shipping_cents", "discount_cents", "refunded_cents",
)  # fmt: skip


class OrderFigures(NamedTuple):
    """What an order's points are computed from, without a model instance per order."""

    id: int
    customer_id: int | None
    status: str
    placed_at: datetime
    delivered_at: datetime | None
    shipping_cents: int
    discount_cents: int


class LineFigures(NamedTuple):
    id: int
    order_id: int
    total_cents: int
    tax_rate_bp: int


def order_figures(
    order_ids: list[int], *, lock: bool = False, placed_since: datetime | None = None
) -> list[tuple[OrderFigures, list[LineFigures]]]:
    """Orders with their lines as plain figures, in id order: two queries for any number.

    For loyalty's batch award, which reads thousands per batch. `lock` holds the orders
    until the caller's transaction ends, as `lines_of_orders` does; `placed_since` leaves
    out older orders without reading (or locking) them: imported history.
    """
    orders = Order.objects.filter(pk__any_of=order_ids).order_by("pk")
    if placed_since is not None:
        orders = orders.filter(placed_at__gte=placed_since)
    if lock:
        orders = orders.select_for_update()
    by_id = {row[0]: (OrderFigures(*row), []) for row in orders.values_list(*OrderFigures._fields)}
    if not by_id:
        return []
    lines = (
        OrderLine.objects.filter(order_id__any_of=list(by_id))
        .order_by("order_id", "id")
        .values_list(*LineFigures._fields)
    )
    for row in lines:
        by_id[row[1]][1].append(LineFigures(*row))
    return list(by_id.values())


def order_ids_recorded_since(since: datetime) -> list[int]:
    """Ids of orders taken in since then (when they arrived, not when placed), oldest first."""
    return list(
        Order.objects.filter(created_at__gte=since)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )


def order_ids_cancelled_or_returned_since(since: datetime) -> list[int]:
    """Ids of orders cancelled, or with goods or money returned, since then."""
    cancelled = Order.objects.filter(status=OrderStatus.CANCELLED, updated_at__gte=since)
    returned = Return.objects.filter(created_at__gte=since)
    return sorted(
        {*cancelled.values_list("id", flat=True), *returned.values_list("order_id", flat=True)}
    )


def order_detail(order_id: int) -> Order:
    """The order with its lines (each with `returned_quantity`) and its returns."""
    returned = (
        ReturnLine.objects.filter(order_line=OuterRef("pk"))
        .values("order_line")
        .annotate(q=Sum("quantity"))
        .values("q")
    )
    lines = OrderLine.objects.select_related("product").annotate(
        returned_quantity=Coalesce(Subquery(returned, output_field=IntegerField()), Value(0))
    )
    return (
        Order.objects.select_related("customer", "shop")
        .prefetch_related(
            Prefetch("lines", queryset=lines),
            Prefetch(
                "returns",
                queryset=Return.objects.prefetch_related("lines__order_line"),
            ),
        )
        .get(pk=order_id)
    )


def customer_orders(customer_id: int, *, limit: int = 20) -> list[Order]:
    return list(
        Order.objects.filter(customer_id=customer_id)
        .select_related("shop")
        .order_by("-placed_at", "-id")[:limit]
    )


def first_order_since(customer_id: int, *, placed_since: datetime) -> Order | None:
    """The customer's earliest order placed since then, with `returns_count` (referrals)."""
    return (
        Order.objects.filter(customer_id=customer_id, placed_at__gte=placed_since)
        .annotate(returns_count=Count("returns"))
        .order_by("placed_at", "id")
        .first()
    )


def has_orders_before(customer_id: int, before: datetime) -> bool:
    return Order.objects.filter(customer_id=customer_id, placed_at__lt=before).exists()


def customer_returns(customer_id: int, *, limit: int = 20) -> list[Return]:
    return list(
        Return.objects.filter(order__customer_id=customer_id)
        .select_related("order")
        .order_by("-refunded_at", "-id")[:limit]
    )


# -- Products ---------------------------------------------------------------------------------


def product_list(*, category_id: int | None = None, query: str = "") -> QuerySet[Product]:
    qs = Product.objects.select_related("category")
    if category_id:
        qs = qs.filter(category_id=category_id)
    query = query.strip()
    if query:
        qs = qs.filter(Q(sku__istartswith=query) | Q(name__icontains=query))
    return qs.order_by("-active", "name", "id")


def product_categories() -> QuerySet[Category]:
    return Category.objects.order_by("name")


def units_sold(product_ids: list[int]) -> dict[int, int]:
    """Units sold (in orders that were not cancelled) per product, for one page of products."""
    if not product_ids:
        return {}
    rows = (
        OrderLine.objects.filter(product_id__in=product_ids)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    return {r["product_id"]: r["units"] for r in rows}


@dataclass(frozen=True)
class ProductSales:
    orders: int
    units: int
    returned_units: int
    revenue_cents: int
    last_sold_at: datetime | None


def product_sales(product: Product) -> ProductSales:
    live = OrderLine.objects.filter(product=product).exclude(order__status=OrderStatus.CANCELLED)
    agg = live.aggregate(
        orders=Count("order_id", distinct=True),
        units=Coalesce(Sum("quantity"), 0),
        revenue=Coalesce(Sum("total_cents"), 0),
        last=Max("order__placed_at"),
    )
    returned = ReturnLine.objects.filter(order_line__product=product).aggregate(
        units=Coalesce(Sum("quantity"), 0), amount=Coalesce(Sum("amount_cents"), 0)
    )
    return ProductSales(
        orders=agg["orders"],
        units=agg["units"],
        returned_units=returned["units"],
        revenue_cents=agg["revenue"] - returned["amount"],
        last_sold_at=agg["last"],
    )


def recent_product_orders(product: Product, *, limit: int = 10) -> list[Order]:
    return list(
        Order.objects.filter(lines__product=product)
        .select_related("customer", "shop")
        .distinct()
        .order_by("-placed_at", "-id")[:limit]
    )


# -- Dashboard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRevenue:
    month: date
    revenue_cents: int


@dataclass(frozen=True)
class Dashboard:
    orders_30d: int
    orders_prev_30d: int
    revenue_30d_cents: int
    revenue_prev_30d_cents: int
    gross_30d_cents: int
    returned_orders_30d: int
    months: list[MonthRevenue]
    latest_orders: list[Order]

    @property
    def average_order_cents(self) -> int | None:
        return self.gross_30d_cents // self.orders_30d if self.orders_30d else None

    @property
    def return_rate(self) -> float | None:
        """Share of the last 30 days' orders with at least one return."""
        return self.returned_orders_30d / self.orders_30d if self.orders_30d else None

    @property
    def revenue_change(self) -> float | None:
        if not self.revenue_prev_30d_cents:
            return None
        return (self.revenue_30d_cents - self.revenue_prev_30d_cents) / self.revenue_prev_30d_cents

    @property
    def orders_change(self) -> float | None:
        if not self.orders_prev_30d:
            return None
        return (self.orders_30d - self.orders_prev_30d) / self.orders_prev_30d


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months_back(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def _as_month(value: date | datetime) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def dashboard(*, now: datetime | None = None, latest: int = 8) -> Dashboard:
    """The overview's order figures in three queries: 60 days of orders, 12 months, latest."""
    now = now or timezone.now()
    local_today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    d30, d60 = now - timedelta(days=30), now - timedelta(days=60)

    current = Q(placed_at__gte=d30) & LIVE
    previous = Q(placed_at__gte=d60, placed_at__lt=d30) & LIVE
    orders = Order.objects.filter(placed_at__gte=d60, placed_at__lte=now).aggregate(
        n=Count("id", filter=current),
        n_prev=Count("id", filter=previous),
        revenue=Coalesce(Sum(REVENUE, filter=current), 0),
        revenue_prev=Coalesce(Sum(REVENUE, filter=previous), 0),
        gross=Coalesce(Sum("total_cents", filter=current), 0),
        returned=Count("id", filter=current & Q(refunded_cents__gt=0)),
    )

    first_month = _months_back(_month_start(local_today), 11)
    since = datetime.combine(first_month, datetime.min.time(), tzinfo=tz)
    rows = (
        Order.objects.filter(LIVE, placed_at__gte=since, placed_at__lte=now)
        .annotate(month=TruncMonth("placed_at", tzinfo=tz))
        .values("month")
        .annotate(revenue=Sum(REVENUE))
        .order_by("month")
    )
    per_month = {_as_month(row["month"]): row["revenue"] or 0 for row in rows}
    months = [
        MonthRevenue(m, per_month.get(m, 0))
        for m in (_months_back(_month_start(local_today), n) for n in range(11, -1, -1))
    ]

    latest_orders = list(
        Order.objects.select_related("customer", "shop").order_by("-placed_at", "-id")[:latest]
    )
    return Dashboard(
        orders_30d=orders["n"],
        orders_prev_30d=orders["n_prev"],
        revenue_30d_cents=orders["revenue"],
        revenue_prev_30d_cents=orders["revenue_prev"],
        gross_30d_cents=orders["gross"],
        returned_orders_30d=orders["returned"],
        months=months,
        latest_orders=latest_orders,
    )


@dataclass(frozen=True)
class RevenueSplit:
    """Revenue of a group of customers against everyone else (other customers and guests)."""

    group_revenue_cents: int
    group_orders: int
    other_revenue_cents: int
    other_orders: int

    @property
    def group_share(self) -> float | None:
        total = self.group_revenue_cents + self.other_revenue_cents
        return self.group_revenue_cents / total if total else None


def revenue_split(*, customer_ids: QuerySet, since: datetime, until: datetime) -> RevenueSplit:
    """Revenue of orders placed in [since, until] by the given customers and by all others.

    One aggregate query; `customer_ids` is a queryset of ids (a subquery, never a list), so
    loyalty can ask about its members without commerce knowing what a member is.
    """
    in_group = Q(customer_id__in=customer_ids)
    agg = Order.objects.filter(LIVE, placed_at__gte=since, placed_at__lte=until).aggregate(
        group=Coalesce(Sum(REVENUE, filter=in_group), 0),
        group_n=Count("id", filter=in_group),
        total=Coalesce(Sum(REVENUE), 0),
        total_n=Count("id"),
    )
    return RevenueSplit(
        group_revenue_cents=agg["group"],
        group_orders=agg["group_n"],
        other_revenue_cents=agg["total"] - agg["group"],
        other_orders=agg["total_n"] - agg["group_n"],
    )


def live_order_facts(*, placed_before: datetime) -> QuerySet:
    """Live orders placed before a moment, as (id, customer_id, placed_at, total_cents,
    refunded_cents, revenue_cents) rows: what analytics aggregates (revenue after refunds,
    cancelled orders excluded).

    Meant to be compiled into set-based SQL (`.query.sql_with_params()`), never iterated:
    commerce keeps deciding what a live order and its revenue are.
    """
    return (
        Order.objects.filter(LIVE, placed_at__lt=placed_before)
        .order_by()
        .values("id", "customer_id", "placed_at", "total_cents", "refunded_cents")
        .annotate(revenue_cents=REVENUE)
    )


def customer_spend(
    *,
    since: datetime,
    until: datetime,
    customer_ids: list[int] | None = None,
    customer_range: tuple[int, int] | None = None,
) -> QuerySet:
    """(customer_id, spend in cents) of orders placed in [since, until]: after refunds,
    cancelled orders excluded (what a customer really spent, for loyalty tiers).

    One aggregate over the (customer, placed_at) index; `customer_range` [lo, hi) lets a
    caller walk all customers in chunks.
    """
    orders = Order.objects.exclude(status=OrderStatus.CANCELLED).filter(
        customer_id__isnull=False, placed_at__gte=since, placed_at__lte=until
    )
    if customer_ids is not None:
        orders = orders.filter(customer_id__in=customer_ids)
    if customer_range is not None:
        orders = orders.filter(
            customer_id__gte=customer_range[0], customer_id__lt=customer_range[1]
        )
    return (
        orders.order_by()
        .values("customer_id")
        .annotate(spend=Sum(F("total_cents") - F("refunded_cents")))
        .values_list("customer_id", "spend")
    )


def live_line_facts(
    *, placed_before: datetime | None = None, placed_since: datetime | None = None
) -> QuerySet:
    """Lines of live orders that name a catalogue product, as (id, customer_id, product_id,
    order_id, placed_at, quantity) rows: what analytics' purchase histories are built from
    (cancelled orders excluded; `customer_id` is NULL for guests), optionally only orders
    placed in [placed_since, placed_before).

    `quantity` is as ordered: subtract `returned_line_quantities()` (joined on the line id)
    for the units kept. Meant to be compiled into set-based SQL (`.query.sql_with_params()`),
    never iterated. For all of history, leave `placed_before` out and compare `placed_at`
    after grouping: SQLite (without statistics) would otherwise walk all orders by the
    `placed_at` index and each order's lines by theirs, 20 times slower than reading the
    lines in order.
    """
    lines = OrderLine.objects.filter(product_id__isnull=False)
    if placed_before is not None:
        lines = lines.filter(order__placed_at__lt=placed_before)
    if placed_since is not None:
        lines = lines.filter(order__placed_at__gte=placed_since)
    return (
        lines.exclude(order__status=OrderStatus.CANCELLED)
        .order_by()
        .values("id", "product_id", "order_id", "quantity")
        .annotate(customer_id=F("order__customer_id"), placed_at=F("order__placed_at"))
    )


def returned_line_quantities() -> QuerySet:
    """(order_line_id, quantity) of the units sent back per order line, for set-based SQL:
    one small grouped table to join, instead of a lookup per line."""
    return (
        ReturnLine.objects.order_by()
        .values("order_line_id")
        .annotate(returned=Sum("quantity"))
        .values("order_line_id", "returned")
    )


def product_facts() -> QuerySet:
    """Every product as (id, category_id, is_consumable, reorder_interval_days, active) rows,
    for set-based SQL (analytics' recommendations) and small reads alike."""
    return Product.objects.order_by().values(
        "id", "category_id", "is_consumable", "reorder_interval_days", "active"
    )


def products_by_id(product_ids) -> dict[int, Product]:
    """Products with their category, keyed by id: one query for a page of recommendations."""
    ids = list(product_ids)
    if not ids:
        return {}
    return {p.pk: p for p in Product.objects.filter(pk__in=ids).select_related("category")}


def lines_bought(
    *, customer, product_ids: list[int] | None = None, category_ids: list[int] | None = None
) -> QuerySet[OrderLine]:
    """Lines of the customer's live orders (cancelled ones excluded) of these products or
    of products in these categories. `customer` is an id, or OuterRef("pk") for an Exists
    over customers (messaging's segments: "bought coffee X")."""
    lines = OrderLine.objects.filter(order__customer_id=customer).exclude(
        order__status=OrderStatus.CANCELLED
    )
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
    if category_ids is not None:
        lines = lines.filter(product__category_id__in=category_ids)
    return lines


def delivery_times(order_ids: Iterable[int]) -> dict[int, datetime | None]:
    """When each order arrived: delivered, else shipped (the shop reports one of them), or
    None while neither is known; cancelled orders are left out."""
    rows = (
        Order.objects.filter(LIVE, pk__in=list(order_ids))
        .order_by()
        .values_list("pk", "delivered_at", "fulfilled_at")
    )
    return {pk: delivered or shipped for pk, delivered, shipped in rows}
