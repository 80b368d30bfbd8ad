"""The recompute: orders to aggregate tables in a fixed number of set-based statements.

The database does every pass over orders (GROUP BY, window functions); Python only
combines the small grouped results (per month, per month pair) into the period figures.
No statement's cost grows with anything but the number of orders and customers, and none
loops over them in Python. Called by `services.recompute_analytics` inside its transaction.

How the hard figures come out of small results:

- Active at the end of month m (window W): the customer's purchase months are merged
  into *spells* (`ActivitySpell`: a purchase starts a new spell when the previous one is
  W or more months back; a spell lasts until W − 1 months after its last purchase).
  Active customers at m = spells covering m: a difference array over
  (first_month, last_month) counts.
- Retained over the P months ending at m (active at m − P and at m): for every pair of
  spells (a, b) of one customer with b not before a, the months m with m − P in a and m
  in b form the interval [max(a.first + P, b.first), min(a.last + P, b.last)]; the pair is
  unique per customer and month. Again a difference array over grouped counts.
- Buyers in the P months ending at m: a purchase month k with the customer's previous
  purchase month p covers the months [max(k, p + P), k + P − 1] without overlapping the
  customer's other purchases; grouped by (k, k − p), any P is a difference array.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from treu.analytics import rfm
from treu.analytics.models import (
    ActivitySpell,
    CohortCell,
    CustomerFigures,
    CustomerMonth,
    CustomerTotals,
    PeriodFigures,
    RfmCell,
    SegmentFigures,
    SegmentMove,
    month_index,
    month_start,
)
from treu.commerce import selectors as commerce_selectors

PERIODS = (1, 3, 12)
COHORT_MONTHS = 36
SECOND_PURCHASE_DAYS = (30, 60, 90)
GAP_CAP = 10_000  # "no previous purchase": a gap longer than any window

AGGREGATE_MODELS = (
    PeriodFigures,
    CohortCell,
    CustomerMonth,
    ActivitySpell,
    CustomerFigures,
    CustomerTotals,
    SegmentFigures,
    SegmentMove,
    RfmCell,
)


def month_bounds(index: int) -> tuple[datetime, datetime]:
    """Midnight Berlin time at the start of the month and of the next one."""
    tz = timezone.get_default_timezone()
    start, end = month_start(index), month_start(index + 1)
    return (
        datetime(start.year, start.month, 1, tzinfo=tz),
        datetime(end.year, end.month, 1, tzinfo=tz),
    )


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _days_between(earlier: str, later: str) -> str:
    """Days from `earlier` to `later`, rounded to whole days (half up), per database.

    Rounded, not floored: across a clock change noon to noon is 23 or 25 hours, and a
    customer who came back "45 days later" must not count 44.
    """
    if connection.vendor == "postgresql":
        return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)"
    return f"CAST(ROUND(julianday({later}) - julianday({earlier})) AS INTEGER)"


def _run(sql: str, params: list | tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@dataclass
class Computed:
    first_month: int | None = None
    last_month: int | None = None
    orders: int = 0
    customers: int = 0
    period_rows: list[PeriodFigures] = field(default_factory=list)


def clear() -> None:
    tables = [_table(model) for model in AGGREGATE_MODELS]
    if connection.vendor == "postgresql":  # no row-by-row delete of a million rows
        _run(f"TRUNCATE {', '.join(tables)}")
        return
    for table in tables:
        _run(f"DELETE FROM {table}")  # noqa: S608 - our own table names


def month_key_sql(column: str) -> tuple[str, list]:
    """SQL for the Berlin month of a timestamp column, one time-zone conversion per row.

    PostgreSQL converts with AT TIME ZONE. SQLite has no time zones of its own: its
    'localtime' modifier uses the process's zone, which Django sets from TIME_ZONE on
    Unix; `_check_sqlite_localtime` refuses to count when that is not so. Group by the key,
    then turn the (few) grouped keys into month indexes with `month_index_sql`.
    """
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column} AT TIME ZONE %s)", [settings.TIME_ZONE]
    return f"CAST(strftime('%%Y%%m', {column}, 'localtime') AS INTEGER)", []


def month_index_sql(key: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {key}) * 12 + EXTRACT(MONTH FROM {key}) - 1 AS INTEGER)"
    return f"(({key}) / 100 * 12 + ({key}) %% 100 - 1)"


def _check_sqlite_localtime() -> None:
    if connection.vendor != "sqlite":
        return
    probes = [datetime(2025, 3, 31, 22, 30, tzinfo=UTC), datetime(2025, 1, 31, 22, 30, tzinfo=UTC)]
    for probe in probes:
        (got,), *_ = _run(
            "SELECT strftime('%%Y-%%m', %s, 'localtime')",
            [connection.ops.adapt_datetimefield_value(probe)],
        )
        if got != f"{timezone.localtime(probe):%Y-%m}":
            raise ImproperlyConfigured(
                "SQLite converts times with the process's time zone, which is not "
                f"{settings.TIME_ZONE}: set the environment variable TZ={settings.TIME_ZONE}."
            )


def compute(*, now: datetime, window: int) -> Computed:
    """Fill every aggregate table from the orders placed before `now` (tables cleared first).

    The orders are read in one grouped pass (per customer and month) and one small one
    (guest orders); everything else comes from that `CustomerMonth` table.
    """
    if connection.vendor == "postgresql":
        # The big CASE expressions would be JIT-compiled on every run: a second and more
        # of compiling for statements that run once (SET LOCAL: this transaction only).
        _run("SET LOCAL jit = off")
    clear()
    _check_sqlite_localtime()
    facts_sql, facts_params = commerce_selectors.live_order_facts(
        placed_before=now
    ).query.sql_with_params()
    facts = f"({facts_sql})"
    result = Computed()
    key, key_params = month_key_sql("o.placed_at")
    month = month_index_sql("g.month_key")
    sums = (
        "COUNT(*) AS orders, SUM(o.revenue_cents) AS revenue, SUM(o.total_cents) AS gross,"
        " SUM(o.refunded_cents) AS refunded"
    )
    cm = _table(CustomerMonth)
    _run(
        f"INSERT INTO {cm} (customer_id, month_index, orders, revenue_cents, gross_cents,"  # noqa: S608
        " refunded_cents, first_at, last_at)"
        f" SELECT g.customer_id, {month}, orders, revenue, gross, refunded, first_at, last_at"
        f" FROM (SELECT o.customer_id, {key} AS month_key, {sums}, MIN(o.placed_at) AS first_at,"
        f" MAX(o.placed_at) AS last_at FROM {facts} o WHERE o.customer_id IS NOT NULL"
        " GROUP BY 1, 2) g",
        [*key_params, *facts_params],
    )
    guests = _run(
        f"SELECT {month}, orders, revenue, gross, refunded"  # noqa: S608
        f" FROM (SELECT {key} AS month_key, {sums} FROM {facts} o"
        " WHERE o.customer_id IS NULL GROUP BY 1) g",
        [*key_params, *facts_params],
    )
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for rows in (
        guests,
        _run(
            f"SELECT month_index, SUM(orders), SUM(revenue_cents), SUM(gross_cents),"  # noqa: S608
            f" SUM(refunded_cents) FROM {cm} GROUP BY month_index"
        ),
    ):
        for m, *sums in rows:
            totals[m] = [a + int(b or 0) for a, b in zip(totals[m], sums, strict=True)]
    if not totals:
        return result
    first = min(totals)
    last = max(month_index(timezone.localdate(now)), max(totals))
    result.first_month, result.last_month = first, last
    result.orders = sum(t[0] for t in totals.values())
    _customer_figures(facts, facts_params, current=month_index(timezone.localdate(now)))
    _spells(window)
    _cohorts(last)
    _segments()
    result.customers = CustomerFigures.objects.count()
    result.period_rows = _period_rows(first, last, window, totals)
    from treu.analytics import channels  # builds on this module's helpers

    channels.add_to_rows(result.period_rows, now=now, first=first, last=last)
    PeriodFigures.objects.bulk_create(result.period_rows, batch_size=500)
    return result


# The three RFM snapshots: (recency column, frequency column, money column) of CustomerTotals,
# the CustomerFigures column of the segment, and whether a customer had ordered by then.
SNAPSHOTS = (
    ("last_at", "orders", "revenue_cents", "segment", None),
    ("month_end_last_at", "month_end_orders", "month_end_revenue_cents", "month_end_segment",
     "month_end_orders > 0"),
    ("previous_last_at", "previous_orders", "previous_revenue_cents", "previous_segment",
     "previous_orders > 0"),
)  # fmt: skip


def _customer_figures(facts: str, facts_params, *, current: int) -> None:
    """One row per customer: lifetime figures, the second order, RFM now and at the last
    two month ends.

    From `CustomerMonth`: one window pass numbering each customer's months and one GROUP BY
    write `CustomerTotals`; a narrow sort per score finds the quintile thresholds; one
    INSERT writes every `CustomerFigures` row with its scores and segments. No join between
    intermediate results and no UPDATE of indexed rows, so nothing grows faster than the
    data. Only customers with three or more orders in their first month need the orders
    themselves, to find the exact second one (an index lookup each).
    """
    cm, totals, cf = _table(CustomerMonth), _table(CustomerTotals), _table(CustomerFigures)

    def as_of(prefix: str, before: int) -> str:
        return (
            f"MAX(CASE WHEN month_index < {before} THEN last_at END), "
            f"SUM(CASE WHEN month_index < {before} THEN orders ELSE 0 END), "
            f"SUM(CASE WHEN month_index < {before} THEN revenue_cents ELSE 0 END)"
        )

    _run(
        f"""
        WITH numbered AS (
            SELECT customer_id, month_index, orders, revenue_cents, first_at, last_at,
                   ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY month_index) AS rn
            FROM {cm}
        )
        INSERT INTO {totals} (customer_id, first_month, first_at, last_at, orders, revenue_cents,
                              first_month_orders, first_month_last_at, next_month_first_at,
                              next_month, month_end_last_at, month_end_orders,
                              month_end_revenue_cents, previous_last_at, previous_orders,
                              previous_revenue_cents)
        SELECT customer_id, MIN(month_index), MIN(first_at), MAX(last_at), SUM(orders),
               SUM(revenue_cents), MAX(CASE WHEN rn = 1 THEN orders END),
               MAX(CASE WHEN rn = 1 THEN last_at END), MAX(CASE WHEN rn = 2 THEN first_at END),
               MAX(CASE WHEN rn = 2 THEN month_index END),
               {as_of("month_end_", current)}, {as_of("previous_", current - 1)}
        FROM numbered GROUP BY customer_id
        """  # noqa: S608 - table names and integers only
    )
    counts = _run(
        "SELECT COUNT(*), SUM(CASE WHEN month_end_orders > 0 THEN 1 ELSE 0 END),"  # noqa: S608
        f" SUM(CASE WHEN previous_orders > 0 THEN 1 ELSE 0 END) FROM {totals}"
    )[0]
    columns, params = [], []
    for (r_col, f_col, m_col, _segment, ordered), n in zip(SNAPSHOTS, counts, strict=True):
        n = int(n or 0)
        if not n:
            columns += ["1", "1", "1", "1", "''"]
            continue
        where = ordered or "orders > 0"
        r, r_values = _score_sql(r_col, _thresholds(r_col, where, n))
        f, f_values = _score_sql(f_col, _thresholds(f_col, where, n))
        m, m_values = _score_sql(m_col, _thresholds(m_col, where, n))
        fm = f"(({f}) + ({m}) + 1) / 2"
        segment = rfm.segment_case_sql(r, fm)
        if ordered:
            segment = f"CASE WHEN {ordered} THEN {segment} ELSE '' END"
        columns += [r, f, m, fm, segment]
        if not ordered:  # the current snapshot writes its scores too
            params += [*r_values, *f_values, *m_values, *f_values, *m_values]
        params += [*r_values, *f_values, *m_values]  # the segment
    now_scores = ", ".join(columns[:5])
    month_end_segment, previous_segment = columns[9], columns[14]
    second = (
        f"(SELECT s.placed_at FROM {facts} s WHERE s.customer_id = t.customer_id"  # noqa: S608
        " ORDER BY s.placed_at, s.id LIMIT 1 OFFSET 1)"
    )
    second_at = (
        f"CASE WHEN first_month_orders >= 3 THEN {second}"
        " WHEN first_month_orders = 2 THEN first_month_last_at ELSE next_month_first_at END"
    )
    days = _days_between("first_at", "second_at")
    _run(
        f"""
        INSERT INTO {cf} (customer_id, first_order_at, second_order_at, last_order_at,
                          first_month, second_month, orders, revenue_cents, days_to_second,
                          recency_score, frequency_score, monetary_score, fm_score, segment,
                          month_end_segment, previous_segment)
        SELECT customer_id, first_at, second_at, last_at, first_month,
               CASE WHEN first_month_orders >= 2 THEN first_month ELSE next_month END,
               orders, revenue_cents,
               CASE WHEN second_at IS NULL THEN NULL ELSE {days} END,
               {now_scores}, {month_end_segment}, {previous_segment}
        FROM (SELECT t.*, {second_at} AS second_at FROM {totals} t) dated
        """,  # noqa: S608 - table names and fixed SQL only; values are parameters
        [*_adapt(params), *facts_params],
    )
    _run(f"DELETE FROM {totals}")  # noqa: S608 - work table, empty outside a recompute


def _thresholds(column: str, where: str, n: int) -> list:
    """The values T2…T5 of a column such that score = 1 + (number of T below the value).

    Equivalent to the quintile of the rank (rfm.quintile): a value's rank − 1 is the count
    of smaller values, and 5 × (rank − 1) ≥ (k − 1) × n exactly when the value exceeds the
    one at sorted position ⌈(k − 1) × n / 5⌉ (1-based). One narrow sort per column.
    """
    positions = [-(-(k - 1) * n // 5) for k in range(2, 6)]
    totals = _table(CustomerTotals)
    found = dict(
        _run(
            f"SELECT rn, v FROM (SELECT {column} AS v,"  # noqa: S608
            f" ROW_NUMBER() OVER (ORDER BY {column}) AS rn FROM {totals} WHERE {where}) ranked"
            f" WHERE rn IN ({', '.join(str(p) for p in positions)})"
        )
    )
    return [found[p] for p in positions]


def _score_sql(column: str, thresholds: list) -> tuple[str, list]:
    return " + ".join(["1", *[f"CASE WHEN {column} > %s THEN 1 ELSE 0 END"] * 4]), thresholds


def _adapt(values: list) -> list:
    """Thresholds as the database compares them (SQLite holds datetimes as text)."""
    return [
        connection.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v
        for v in values
    ]


def _spells(window: int) -> None:
    cm, spells = _table(CustomerMonth), _table(ActivitySpell)
    _run(
        f"""
        WITH g AS (
            SELECT customer_id, month_index,
                   LAG(month_index) OVER (PARTITION BY customer_id ORDER BY month_index) AS prev
            FROM {cm}
        ),
        s AS (
            SELECT customer_id, month_index,
                   SUM(CASE WHEN prev IS NULL OR month_index - prev >= %s THEN 1 ELSE 0 END)
                       OVER (PARTITION BY customer_id ORDER BY month_index
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS spell_no
            FROM g
        )
        INSERT INTO {spells} (customer_id, spell_no, first_month, last_month)
        SELECT customer_id, spell_no, MIN(month_index), MAX(month_index) + %s - 1
        FROM s GROUP BY customer_id, spell_no
        """,  # noqa: S608
        [window, window],
    )


def _cohorts(last: int) -> None:
    cm, cf, cells = _table(CustomerMonth), _table(CustomerFigures), _table(CohortCell)
    _run(
        f'INSERT INTO {cells} (cohort_index, "offset", customers, revenue_cents)'  # noqa: S608
        f" SELECT f.first_month, c.month_index - f.first_month, COUNT(*), SUM(c.revenue_cents)"
        f" FROM {cm} c JOIN {cf} f ON f.customer_id = c.customer_id"
        " WHERE f.first_month > %s GROUP BY f.first_month, c.month_index",
        [last - COHORT_MONTHS],
    )


def _segments() -> None:
    cf = _table(CustomerFigures)
    _run(
        f"INSERT INTO {_table(RfmCell)} (recency_score, fm_score, customers, revenue_cents)"  # noqa: S608
        f" SELECT recency_score, fm_score, COUNT(*), SUM(revenue_cents) FROM {cf}"
        " GROUP BY recency_score, fm_score"
    )
    _run(
        f"INSERT INTO {_table(SegmentMove)} (from_segment, to_segment, customers)"  # noqa: S608
        f" SELECT previous_segment, month_end_segment, COUNT(*) FROM {cf}"
        " WHERE month_end_segment <> '' GROUP BY previous_segment, month_end_segment"
    )
    now = {s: (n, int(rev or 0)) for s, n, rev in _run(
        f"SELECT segment, COUNT(*), SUM(revenue_cents) FROM {cf} GROUP BY segment"  # noqa: S608
    )}  # fmt: skip
    counts = {
        column: dict(
            _run(
                f"SELECT {column}, COUNT(*) FROM {cf} WHERE {column} <> ''"  # noqa: S608
                f" GROUP BY {column}"
            )
        )
        for column in ("month_end_segment", "previous_segment")
    }
    SegmentFigures.objects.bulk_create(
        SegmentFigures(
            segment=segment,
            customers=now.get(segment, (0, 0))[0],
            revenue_cents=now.get(segment, (0, 0))[1],
            month_end_customers=counts["month_end_segment"].get(segment, 0),
            previous_customers=counts["previous_segment"].get(segment, 0),
        )
        for segment in rfm.SEGMENT_ORDER
    )


class Line:
    """Counts per month index over [first, last], added to by intervals (a difference array)."""

    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last
        self.diff = [0] * (last - first + 2)

    def add(self, lo: int, hi: int, count: int) -> None:
        lo, hi = max(lo, self.first), min(hi, self.last)
        if lo > hi:
            return
        self.diff[lo - self.first] += count
        self.diff[hi - self.first + 1] -= count

    def values(self) -> dict[int, int]:
        out, running = {}, 0
        for offset, delta in enumerate(self.diff[:-1]):
            running += delta
            out[self.first + offset] = running
        return out


def _period_rows(first: int, last: int, window: int, totals: dict) -> list[PeriodFigures]:
    cm, cf, spells = _table(CustomerMonth), _table(CustomerFigures), _table(ActivitySpell)
    # Spells: active at month ends, and new customers still active (their first spell).
    active = Line(first, last)
    new_active = {p: Line(first, last) for p in PERIODS}
    for lo, hi, is_first, n in _run(
        f"SELECT first_month, last_month, CASE WHEN spell_no = 1 THEN 1 ELSE 0 END, COUNT(*)"  # noqa: S608
        f" FROM {spells} GROUP BY first_month, last_month, CASE WHEN spell_no = 1 THEN 1 ELSE 0 END"
    ):
        active.add(lo, hi, n)
        if is_first:
            for p, line in new_active.items():
                line.add(lo, min(hi, lo + p - 1), n)
    retained = {p: Line(first, last) for p in PERIODS}
    for a_lo, a_hi, b_lo, b_hi, n in _run(
        f"SELECT a.first_month, a.last_month, b.first_month, b.last_month, COUNT(*)"  # noqa: S608
        f" FROM {spells} a JOIN {spells} b"
        " ON b.customer_id = a.customer_id AND b.spell_no >= a.spell_no"
        " GROUP BY a.first_month, a.last_month, b.first_month, b.last_month"
    ):
        for p, line in retained.items():
            line.add(max(a_lo + p, b_lo), min(a_hi + p, b_hi), n)
    # Buyers per period: purchase months with the gap to the customer's previous one.
    buyers = {p: Line(first, last) for p in PERIODS}
    for k, gap, n in _run(
        f"""
        SELECT month_index, gap, COUNT(*) FROM (
            SELECT month_index, COALESCE(month_index - LAG(month_index)
                   OVER (PARTITION BY customer_id ORDER BY month_index), %s) AS gap
            FROM {cm}
        ) g GROUP BY month_index, gap
        """,  # noqa: S608
        [GAP_CAP],
    ):
        for p, line in buyers.items():
            line.add(max(k, k - gap + p), k + p - 1, n)
    month_sums = {
        k: (n, orders, revenue)
        for k, n, orders, revenue in _run(
            f"SELECT month_index, COUNT(*), SUM(orders), SUM(revenue_cents) FROM {cm}"  # noqa: S608
            " GROUP BY month_index"
        )
    }
    within = ", ".join(
        f"SUM(CASE WHEN days_to_second <= {d} THEN 1 ELSE 0 END)" for d in SECOND_PURCHASE_DAYS
    )
    cohorts = {
        row[0]: row[1:]
        for row in _run(
            f"SELECT first_month, COUNT(*), {within} FROM {cf} GROUP BY first_month"  # noqa: S608
        )
    }
    seconds: dict[int, Counter] = defaultdict(Counter)
    for k, days, n in _run(
        f"SELECT second_month, days_to_second, COUNT(*) FROM {cf}"  # noqa: S608
        " WHERE second_month IS NOT NULL GROUP BY second_month, days_to_second"
    ):
        seconds[k][days] += n

    active_at = active.values()
    retained_at = {p: line.values() for p, line in retained.items()}
    new_active_at = {p: line.values() for p, line in new_active.items()}
    buyers_at = {p: line.values() for p, line in buyers.items()}
    to_date = {"customers": 0, "repeat": 0, "revenue": 0}
    repeat_by_month = Counter()
    for k, counter in seconds.items():
        repeat_by_month[k] = sum(counter.values())
    rows = []
    for m in range(first, last + 1):
        to_date["customers"] += cohorts.get(m, (0,))[0]
        to_date["repeat"] += repeat_by_month.get(m, 0)
        to_date["revenue"] += (month_sums.get(m, (0, 0, 0))[2]) or 0
        for p in PERIODS:
            span = range(max(m - p + 1, first), m + 1)
            all_sums = [sum((totals.get(k, (0, 0, 0, 0))[i] or 0) for k in span) for i in range(4)]
            cust_sums = [sum((month_sums.get(k, (0, 0, 0))[i] or 0) for k in span) for i in (1, 2)]
            cohort_sums = [
                sum(cohorts.get(k, (0, 0, 0, 0))[i] or 0 for k in span) for i in range(4)
            ]
            hist = Counter()
            for k in span:
                hist.update(seconds.get(k, {}))
            ending = active_at[m]
            kept = retained_at[p][m]
            new = new_active_at[p][m]
            starts_at, _ = month_bounds(m - p + 1)
            rows.append(
                PeriodFigures(
                    month_index=m,
                    months=p,
                    month=month_start(m),
                    starts_at=starts_at,
                    ends_at=month_bounds(m)[1],
                    orders_all=all_sums[0],
                    revenue_all_cents=all_sums[1],
                    gross_all_cents=all_sums[2],
                    refunded_all_cents=all_sums[3],
                    orders=cust_sums[0],
                    revenue_cents=cust_sums[1],
                    buyers=buyers_at[p][m],
                    new_customers=cohort_sums[0],
                    starting=active_at.get(m - p, 0),
                    ending=ending,
                    retained=kept,
                    new_active=new,
                    reactivated=ending - kept - new,
                    customers_to_date=to_date["customers"],
                    repeat_to_date=to_date["repeat"],
                    revenue_to_date_cents=to_date["revenue"],
                    second_within_30=cohort_sums[1],
                    second_within_60=cohort_sums[2],
                    second_within_90=cohort_sums[3],
                    second_orders=sum(hist.values()),
                    second_days_total=sum(d * n for d, n in hist.items()),
                    second_days_median=_median(hist),
                )
            )
    return rows


def _median(hist: Counter) -> Decimal | None:
    """The median of a histogram {value: count}; the mean of the two middle values if even."""
    total = sum(hist.values())
    if not total:
        return None
    lower_pos, upper_pos = (total - 1) // 2, total // 2
    seen, lower = 0, None
    for value in sorted(hist):
        seen += hist[value]
        if lower is None and seen > lower_pos:
            lower = value
        if seen > upper_pos:
            return (Decimal(lower) + Decimal(value)) / 2
    raise AssertionError("unreachable")
