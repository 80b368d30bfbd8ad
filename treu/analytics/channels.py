"""Figures other apps add to the period rows: the loyalty programme and email.

Read the way the orders are read: each app hands over a queryset of plain facts through its
selectors (`loyalty.selectors.member_facts` / `points_facts`, `messaging.selectors
.marketing_mail_facts` / `attributed_orders`), compiled into one grouped statement per
source, by Berlin month. Python only adds the (few) monthly rows up to periods. Called by
`computation.compute` inside the recompute's transaction, after the spells and customer
months are written.

- Members by the end of a period: members who joined before it ended (a running sum of
  joins per month; members who joined before the shop's first order are counted too).
- Active members: an activity spell covering the month, of a customer who had joined by
  then: spells joined to members, grouped by (spell, joining month), a difference array.
- Revenue of members: the customer months (`CustomerMonth`) whose last order came after
  joining; in the joining month that is the whole month (orders before joining included).
- Email: marketing mails sent per month; orders attributed to the last marketing mail
  within the attribution window (messaging's definition), by the month of the order, split
  by the mail's key prefix ("campaign:…", "flow:…").
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from treu.analytics.computation import (
    Line,
    _run,
    _table,
    month_bounds,
    month_index_sql,
    month_key_sql,
)
from treu.analytics.models import ActivitySpell, CustomerMonth, PeriodFigures

# The PeriodFigures columns that are sums of their months.
ADDITIVE = (
    "new_members",
    "member_orders",
    "member_revenue_cents",
    "points_issued",
    "points_taken_back",
    "points_redeemed",
    "points_expired",
    "email_mails",
    "email_orders",
    "email_revenue_cents",
    "email_campaign_cents",
    "email_flow_cents",
)
CAMPAIGN_PREFIX, FLOW_PREFIX = "campaign:", "flow:"


def _compiled(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return f"({sql})", list(params)


def _by_month(facts: tuple[str, list], column: str, sums: str, sum_params=()) -> list[tuple]:
    """(month index, *sums) per Berlin month of `column`, one grouped statement."""
    sql, params = facts
    key, key_params = month_key_sql(f"f.{column}")
    month = month_index_sql("g.month_key")
    return _run(
        f"SELECT {month}, g.* FROM (SELECT {key} AS month_key, {sums}"  # noqa: S608
        f" FROM {sql} f GROUP BY 1) g",
        [*key_params, *sum_params, *params],
    )


def _months(rows: list[tuple], names: tuple[str, ...], monthly: dict[str, Counter]) -> None:
    for m, _key, *values in rows:
        for name, value in zip(names, values, strict=True):
            monthly[name][m] += int(value or 0)


def loyalty_months(*, now: datetime, monthly: dict[str, Counter]) -> tuple[str, list] | None:
    """Joins, points and members' revenue per month; the compiled member facts (for the
    active members), or None when the programme has no members."""
    from treu.loyalty import selectors as loyalty_selectors

    members = _compiled(loyalty_selectors.member_facts().filter(joined_at__lt=now))
    _months(_by_month(members, "joined_at", "COUNT(*)"), ("new_members",), monthly)
    points = _compiled(loyalty_selectors.points_facts(booked_before=now))
    flows = ("points_issued", "points_taken_back", "points_redeemed", "points_expired")
    _months(
        _by_month(
            points,
            "created_at",
            "SUM(f.issued), SUM(f.taken_back), SUM(f.redeemed), SUM(f.expired)",
        ),
        flows,
        monthly,
    )
    if not monthly["new_members"]:
        return None
    sql, params = members
    for m, orders, revenue in _run(
        f"SELECT c.month_index, SUM(c.orders), SUM(c.revenue_cents)"  # noqa: S608
        f" FROM {_table(CustomerMonth)} c JOIN {sql} f ON f.customer_id = c.customer_id"
        " WHERE c.last_at >= f.joined_at GROUP BY c.month_index",
        params,
    ):
        monthly["member_orders"][m] += int(orders or 0)
        monthly["member_revenue_cents"][m] += int(revenue or 0)
    return members


def active_members(members: tuple[str, list], *, first: int, last: int) -> dict[int, int]:
    """Active customers at the end of each month who had joined by then."""
    sql, params = members
    key, key_params = month_key_sql("f.joined_at")
    line = Line(first, last)
    for lo, hi, joined, n in _run(
        f"SELECT first_month, last_month, {month_index_sql('month_key')}, n FROM ("  # noqa: S608
        f" SELECT s.first_month, s.last_month, {key} AS month_key, COUNT(*) AS n"
        f" FROM {_table(ActivitySpell)} s JOIN {sql} f ON f.customer_id = s.customer_id"
        " GROUP BY s.first_month, s.last_month, month_key) g",
        [*key_params, *params],
    ):
        line.add(max(lo, joined), hi, n)
    return line.values()


def email_months(*, now: datetime, monthly: dict[str, Counter]) -> None:
    """Marketing mails sent and the revenue attributed to them, per month."""
    from treu.messaging import selectors as messaging_selectors

    mails = _compiled(messaging_selectors.marketing_mail_facts(sent_before=now))
    _months(_by_month(mails, "sent_at", "COUNT(*)"), ("email_mails",), monthly)
    if not monthly["email_mails"]:
        return  # no marketing mail was ever sent: no order can be attributed to one
    # Orders before the first mail's month cannot follow a mail: not worth a lookup each.
    since, _ = month_bounds(min(monthly["email_mails"]))
    orders = _compiled(messaging_selectors.attributed_orders(placed_since=since, placed_before=now))
    _months(
        _by_month(
            orders,
            "placed_at",
            "COUNT(*), SUM(f.revenue_cents),"
            " SUM(CASE WHEN f.touch LIKE %s THEN f.revenue_cents ELSE 0 END),"
            " SUM(CASE WHEN f.touch LIKE %s THEN f.revenue_cents ELSE 0 END)",
            [f"{CAMPAIGN_PREFIX}%", f"{FLOW_PREFIX}%"],
        ),
        ("email_orders", "email_revenue_cents", "email_campaign_cents", "email_flow_cents"),
        monthly,
    )


def add_to_rows(rows: list[PeriodFigures], *, now: datetime, first: int, last: int) -> None:
    """Fill the loyalty and email columns of the period rows (before they are written)."""
    monthly: dict[str, Counter] = {name: Counter() for name in ADDITIVE}
    members = loyalty_months(now=now, monthly=monthly)
    email_months(now=now, monthly=monthly)
    ending = active_members(members, first=first, last=last) if members else {}
    joined = monthly["new_members"]
    before_first = sum(n for m, n in joined.items() if m < first)
    to_date, running = {}, before_first
    for m in range(first, last + 1):
        running += joined.get(m, 0)
        to_date[m] = running
    for row in rows:
        span = range(row.month_index - row.months + 1, row.month_index + 1)
        for name in ADDITIVE:
            values = monthly[name]
            setattr(row, name, sum(values.get(k, 0) for k in span) if values else 0)
        row.members_to_date = to_date[row.month_index]
        row.ending_members = ending.get(row.month_index, 0)
