"""CSV export of every table the analytics pages show: semicolons, decimal commas, UTF-8 with
BOM, so German Excel opens it as it is; money in euros with two decimals, rates in percent."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from fractions import Fraction

from django.utils import timezone
from django.utils.translation import gettext as _

from treu.analytics import selectors
from treu.analytics.models import ChurnRisk


def _number(value, decimals: int = 1) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.{decimals}f}".replace(".", ",")


def _rate(value: Fraction | None) -> str:
    return _number(value * 100 if value is not None else None)


def _decimal(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}".replace(".", ",")


def _euro(cents: int | None) -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def rows_as_csv(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def period_table(dashboard: selectors.Dashboard) -> tuple[list[str], list[list[str]]]:
    """The KPIs of the chosen period length, one row per month (the cards' figures)."""
    header = [
        _("Last month of the period"), _("Months"), _("Active at the start"),
        _("Active at the end"), _("Retained"), _("New (active at the end)"), _("Came back"),
        _("Retention rate (%)"), _("Churn rate (%)"), _("Repeat-customer rate (%)"),
        _("Orders"), _("Revenue (€)"), _("Average order value (€)"), _("Customers who ordered"),
        _("Purchase frequency"), _("New customers"), _("Second purchase within 30 days (%)"),
        _("Second purchase within 60 days (%)"), _("Second purchase within 90 days (%)"),
        _("Second orders"), _("Median days to second order"), _("Historic CLV (€)"),
    ]  # fmt: skip
    rows = []
    for r in dashboard.period_rows:
        rows.append([
            f"{r.month:%Y-%m}", str(r.months), str(r.starting), str(r.ending), str(r.retained),
            str(r.new_active), str(r.reactivated), _rate(r.retention_rate), _rate(r.churn_rate),
            _rate(r.repeat_rate), str(r.orders_all), _euro(r.revenue_all_cents),
            _euro(r.aov_cents), str(r.buyers), _number(r.purchase_frequency, 2),
            str(r.new_customers), _rate(r.second_rate_30), _rate(r.second_rate_60),
            _rate(r.second_rate_90), str(r.second_orders), _number(r.second_days_median),
            _euro(r.historic_clv_cents),
        ])  # fmt: skip
    shown = dashboard.card_keys
    if "members" in shown:  # the programme's columns once it has members
        header += [
            _("Loyalty members"), _("Joined in the period"), _("Active members"),
            _("Members among active customers (%)"), _("Orders of members"),
            _("Revenue of members (€)"), _("Revenue share of members (%)"), _("Points issued"),
            _("Points taken back"), _("Points redeemed"), _("Points expired"),
            _("Points redemption rate (%)"),
        ]  # fmt: skip
        for row, r in zip(rows, dashboard.period_rows, strict=True):
            row += [
                str(r.members_to_date), str(r.new_members), str(r.ending_members),
                _rate(r.member_share), str(r.member_orders), _euro(r.member_revenue_cents),
                _rate(r.member_revenue_share), str(r.points_issued), str(r.points_taken_back),
                str(r.points_redeemed), str(r.points_expired), _rate(r.redemption_rate),
            ]  # fmt: skip
    if "email_revenue" in shown:  # and email's once a marketing mail went out
        header += [
            _("Marketing mails sent"), _("Orders attributed to email"),
            _("Email-attributed revenue (€)"), _("of it campaigns (€)"),
            _("of it automations (€)"), _("Email share of revenue (%)"),
        ]  # fmt: skip
        for row, r in zip(rows, dashboard.period_rows, strict=True):
            row += [
                str(r.email_mails), str(r.email_orders), _euro(r.email_revenue_cents),
                _euro(r.email_campaign_cents), _euro(r.email_flow_cents),
                _rate(r.email_revenue_share),
            ]  # fmt: skip
    return header, rows


def cohort_table(rows: list[selectors.CohortRow]) -> tuple[list[str], list[list[str]]]:
    width = max((len(r.cells) for r in rows), default=0)
    header = [_("Cohort"), _("Customers"), _("Revenue in the first month (€)")]
    for offset in range(width):
        header += [
            _("Month %(n)s customers") % {"n": offset},
            _("Month %(n)s revenue (€)") % {"n": offset},
        ]
    out = []
    for row in rows:
        line = [f"{row.cohort:%Y-%m}", str(row.size), _euro(row.revenue_cents)]
        for cell in row.cells:
            line += [str(cell.customers), _euro(cell.revenue_cents)]
        out.append(line)
    return header, out


def segment_table(overview: selectors.RfmOverview) -> tuple[list[str], list[list[str]]]:
    header = [
        _("Segment"), _("Customers"), _("Revenue (€)"), _("Customers at the end of last month"),
        _("Customers at the end of the month before"),
    ]  # fmt: skip
    rows = [
        [
            s.label,
            str(s.customers),
            _euro(s.revenue_cents),
            str(s.month_end_customers),
            str(s.previous_customers),
        ]  # fmt: skip
        for s in overview.segments
    ]
    return header, rows


def move_table(overview: selectors.RfmOverview) -> tuple[list[str], list[list[str]]]:
    header = [
        _("End of the month before → end of last month"),
        *[str(t.label) for t, _n, _u in overview.moves[0][1]],
    ]
    rows = [
        [str(source.label) if source else _("No order yet"), *[str(n) for _t, n, _u in targets]]
        for source, targets in overview.moves
    ]
    return header, rows


def grid_table(overview: selectors.RfmOverview) -> tuple[list[str], list[list[str]]]:
    header = ["R", "FM", _("Segment"), _("Customers"), _("Revenue (€)")]
    rows = [
        [str(r), str(fm), str(segment.label), str(n), _euro(cents)]
        for row in overview.grid
        for r, fm, segment, n, cents, _url in row
    ]
    return header, rows


def customer_table(figures) -> tuple[list[str], Iterator[list[str]]]:
    header = [
        _("Customer number"), _("Name"), _("First order"), _("Last order"), _("Orders"),
        _("Revenue (€)"), "R", "F", "M", _("Segment"), _("P(alive)"),
        _("Expected purchases (365 days)"), _("Predicted 12-month value (€)"), _("Churn risk"),
        _("Expected next order"),
    ]  # fmt: skip
    risks = dict(ChurnRisk.choices)

    def rows():
        for f in figures.iterator(chunk_size=2000):
            c = f.customer
            first, last = timezone.localdate(f.first_order_at), timezone.localdate(f.last_order_at)
            yield [
                c.display_number, c.full_name, f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}",
                str(f.orders), _euro(f.revenue_cents),
                str(f.recency_score), str(f.frequency_score), str(f.monetary_score),
                str(f.get_segment_display()), _decimal(f.p_alive, 3),
                _decimal(f.expected_365, 2), _euro(f.predicted_clv_cents),
                str(risks.get(f.churn_risk, "")),
                f"{f.next_order_on:%Y-%m-%d}" if f.next_order_on else "",
            ]  # fmt: skip

    return header, rows()
