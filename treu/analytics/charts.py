"""The dashboard's trend charts, drawn with the back office's shared `trend_chart`."""

from __future__ import annotations

from fractions import Fraction

from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from treu.analytics.selectors import Dashboard
from treu.backoffice.charts import TrendChart, trend_chart
from treu.core.money import format_euro


def _pct(value) -> str:
    return f"{round(value * 100)}\u00a0%"


def _eur(value) -> str:
    return format_euro(round(value)) if value is not None else "–"


def _count(value) -> str:
    return f"{round(value):,}".replace(",", ".")


def _f(value: Fraction | None) -> float | None:
    return float(value) if value is not None else None


def dashboard_charts(d: Dashboard) -> dict[str, TrendChart]:
    labels = [date_format(r.month, "M y") for r in d.trend]
    year_rows = {r.month_index: r for r in d.trend_year}
    settings = d.settings
    retention = [
        _f(year_rows[r.month_index].retention_rate) if r.month_index in year_rows else None
        for r in d.trend
    ]
    churn = [
        _f(year_rows[r.month_index].churn_rate) if r.month_index in year_rows else None
        for r in d.trend
    ]
    charts = {
        "retention": trend_chart(
            title=_("Retention and churn rate, rolling 12 months"),
            description=_(
                "For each month: of the customers active twelve months earlier, the share "
                "still active (retention) and the share lost (churn), with your targets and "
                "the industry benchmark."
            ),
            labels=labels,
            series=[(_("Retention rate"), "line", retention), (_("Churn rate"), "line", churn)],
            references=[
                (_("Target retention"), settings.target_retention_pct / 100, "target"),
                (_("Target churn"), settings.target_churn_pct / 100, "target-2"),
                (_("Industry"), settings.industry_retention_pct / 100, "benchmark"),
            ],
            fmt=_pct,
        ),
        "revenue": trend_chart(
            title=_("Revenue per month"),
            description=_("Revenue per month after refunds, cancelled orders excluded."),
            labels=labels,
            series=[(_("Revenue"), "bar", [r.revenue_all_cents for r in d.trend])],
            fmt=_eur,
        ),
        "customers": trend_chart(
            title=_("New and returning customers per month"),
            description=_(
                "Customers who ordered in the month: first-time buyers and those who had "
                "ordered before."
            ),
            labels=labels,
            series=[
                (_("New customers"), "bar", [r.new_customers for r in d.trend]),
                (_("Returning customers"), "bar", [r.buyers - r.new_customers for r in d.trend]),
            ],
            fmt=_count,
        ),
        "active": trend_chart(
            title=_("Active customers at the end of each month"),
            description=_("Customers whose last order lies within the active window."),
            labels=labels,
            series=[(_("Active customers"), "line", [r.ending for r in d.trend])],
            fmt=_count,
        ),
        "aov": trend_chart(
            title=_("Average order value per month"),
            description=_("Revenue after refunds divided by orders, per month."),
            labels=labels,
            series=[(_("Average order value"), "line", [r.aov_cents for r in d.trend])],
            fmt=_eur,
        ),
    }
    shown = d.card_keys
    if "members" in shown:
        charts["loyalty"] = trend_chart(
            title=_("Loyalty points issued and redeemed per month"),
            description=_(
                "Points members earned or were given by hand, and points they redeemed for "
                "rewards, in each month."
            ),
            labels=labels,
            series=[
                (_("Points issued"), "bar", [r.points_issued for r in d.trend]),
                (_("Points redeemed"), "bar", [r.points_redeemed for r in d.trend]),
            ],
            fmt=_count,
        )
    if "email_revenue" in shown:
        charts["email"] = trend_chart(
            title=_("Email-attributed revenue per month"),
            description=_(
                "Revenue of orders placed within the attribution window after a marketing "
                "mail (the last one counts), by campaigns and automations."
            ),
            labels=labels,
            series=[
                (_("Campaigns"), "bar", [r.email_campaign_cents for r in d.trend]),
                (_("Automations"), "bar", [r.email_flow_cents for r in d.trend]),
                (_("Other marketing mails"), "bar", [r.email_other_cents for r in d.trend]),
            ],
            fmt=_eur,
        )
    return charts


def calibration_chart(rows: list[dict]) -> TrendChart:
    """The holdout check: per number of purchases before the cut-off, the mean purchases
    the model predicted for the hidden months and the mean the customers really made."""
    return trend_chart(
        title=_("Predicted and actual purchases in the holdout period"),
        description=_(
            "Customers grouped by their repeat purchases before the cut-off (7+ = seven or "
            "more). For each group: the repeat purchases per customer the model, fitted "
            "without the last months, predicted for those months, and what the customers "
            "really bought. The closer the lines, the better the model fits your shop."
        ),
        labels=[row["label"] for row in rows],
        series=[
            (_("Predicted"), "line", [row["predicted"] for row in rows]),
            (_("Actual"), "line", [row["actual"] for row in rows]),
        ],
        fmt=_decimal,
        axis=_("Repeat purchases before the cut-off"),
    )


def _decimal(value) -> str:
    return f"{value:.2f}".replace(".", ",")
