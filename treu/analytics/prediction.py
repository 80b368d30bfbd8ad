"""The predictive part of the recompute: orders to per-customer BG/NBD inputs (one set-based
statement), the minimum-data checks, one fit of each model, the holdout check, and the
predictions written to `CustomerPrediction`. The maths is in `treu.analytics.predictive`.

Called by `services.recompute_analytics` inside its transaction, after `computation.compute`.
Definitions in docs/metrics.md ("Kundenwert-Prognose").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from treu.analytics.prediction_models import (
    CHURN_BANDS,
    ChurnRisk,
    CustomerPrediction,
    FitStatus,
    PredictionFit,
)
from treu.analytics.predictive import bgnbd, clv, gamma_gamma
from treu.commerce import selectors as commerce_selectors

EPOCH = date(1970, 1, 1)
WEEK = 7.0
MONTH_WEEKS = 365.25 / 12 / WEEK
HORIZONS_DAYS = (90, 365)

# Minimum data (docs/metrics.md): below these a fit says more about chance than about the
# shop. Module constants so tests can lower them for small hand-made shops.
MIN_CUSTOMERS = 200
MIN_REPEAT_CUSTOMERS = 50
MIN_HISTORY_DAYS = 180
MIN_SPEND_CUSTOMERS = 30
MAX_SPEND_CORRELATION = 0.3
# The holdout check: the last HOLDOUT_DAYS (or a third of a shorter history) are hidden
# from a second fit, which predicts them.
HOLDOUT_DAYS = 182
MIN_CALIBRATION_DAYS = 120
CALIBRATION_GROUPS = 7  # 0, 1, …, 6 and "7 or more" purchases in the calibration period

PROBLEMS = {
    "few_customers": _(
        "Fewer than %(min)s customers have ordered (%(n)s so far). The prediction needs a "
        "few hundred customers to tell a pattern from chance."
    ),
    "few_repeat": _(
        "Only %(n)s customers have bought on a second day (at least %(min)s are needed). "
        "The model learns how often people come back from those who did."
    ),
    "young_shop": _(
        "The order history covers %(n)s days; at least %(min)s are needed to see who comes "
        "back and who stays away."
    ),
    "no_fit": _(
        "The purchase model could not be fitted to your orders (%(detail)s). This happens "
        "with very uniform histories, e.g. when orders were imported without their dates."
    ),
    "few_spend": _(
        "Only %(n)s returning customers have a positive order value after returns (at least "
        "%(min)s are needed), so no customer value is predicted."
    ),
    "spend_correlation": _(
        "Order value and purchase frequency are correlated (%(n)s; at most ±%(max)s allowed): "
        "the spend model assumes they are independent, so no customer value is predicted."
    ),
    "spend_no_fit": _(
        "The spend model could not be fitted (%(detail)s), so no customer value is predicted."
    ),
    "spend_unbounded": _(
        "Order values vary so much that the expected value per order is unbounded (q ≤ 1), "
        "so no customer value is predicted."
    ),
}

ADVICE = _(
    "Keep recording orders with their customer: the prediction appears by itself after a "
    "recompute once enough customers have bought twice."
)


def berlin_day_sql(column: str) -> tuple[str, list]:
    """The Berlin calendar day of a timestamp as days since 1970-01-01."""
    if connection.vendor == "postgresql":
        return f"(CAST({column} AT TIME ZONE %s AS DATE) - DATE '1970-01-01')", [settings.TIME_ZONE]
    # 'localtime' is Berlin: computation._check_sqlite_localtime has made sure.
    return f"CAST(julianday(date({column}, 'localtime')) - 2440587.5 AS INTEGER)", []


@dataclass(frozen=True)
class Summary:
    """Per customer (arrays in one order): the inputs of both models, in days and cents."""

    customer_ids: np.ndarray
    first_day: np.ndarray
    x: np.ndarray  # repeat purchase days
    t_x: np.ndarray  # days from the first to the last purchase day
    T: np.ndarray  # days from the first purchase day to today
    repeat_cents: np.ndarray  # revenue of the repeat days, after refunds
    cal_days: np.ndarray  # purchase days before the holdout cut-off
    cal_last_day: np.ndarray  # last purchase day before the cut-off (first_day if none)

    @property
    def mean_spend(self) -> np.ndarray:
        """Mean value of a repeat purchase day in cents (0 without repeat purchases)."""
        return np.divide(
            self.repeat_cents, self.x, out=np.zeros_like(self.repeat_cents), where=self.x > 0
        )


def summarise(*, now: datetime, today: int, cutoff: int) -> Summary:
    """One statement over the orders: per customer and Berlin day the revenue (several
    orders on a day are one purchase), then per customer the BG/NBD inputs, the revenue of
    the repeat days, and the same as of the day before `cutoff` for the holdout check."""
    facts_sql, facts_params = commerce_selectors.live_order_facts(
        placed_before=now
    ).query.sql_with_params()
    day, day_params = berlin_day_sql("o.placed_at")
    rows = _run(
        f"""
        WITH d AS (
            SELECT o.customer_id AS c, {day} AS day, SUM(o.revenue_cents) AS rev
            FROM ({facts_sql}) o WHERE o.customer_id IS NOT NULL GROUP BY 1, 2
        ),
        n AS (
            SELECT c, day, rev, ROW_NUMBER() OVER (PARTITION BY c ORDER BY day) AS rn FROM d
        )
        SELECT c, MIN(day), MAX(day), COUNT(*), SUM(CASE WHEN rn > 1 THEN rev ELSE 0 END),
               SUM(CASE WHEN day < %s THEN 1 ELSE 0 END),
               COALESCE(MAX(CASE WHEN day < %s THEN day END), MIN(day))
        FROM n GROUP BY c
        """,  # noqa: S608 - compiled queryset and fixed SQL; values are parameters
        [*day_params, *facts_params, cutoff, cutoff],
    )
    table = np.array(rows, dtype=np.int64).reshape(-1, 7)
    ids, first, last, days, repeat_cents, cal_days, cal_last = table.T
    return Summary(
        customer_ids=ids,
        first_day=first,
        x=(days - 1).astype(float),
        t_x=(last - first).astype(float),
        T=(today - first).astype(float),
        repeat_cents=repeat_cents.astype(float),
        cal_days=cal_days,
        cal_last_day=cal_last,
    )


def _run(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _day_number(day: date) -> int:
    return (day - EPOCH).days


def _holdout_days(history_days: int) -> int:
    return min(HOLDOUT_DAYS, history_days // 3)


def clear() -> None:
    table = connection.ops.quote_name(CustomerPrediction._meta.db_table)
    if connection.vendor == "postgresql":
        _run(f"TRUNCATE {table}", [])
    else:
        _run(f"DELETE FROM {table}", [])  # noqa: S608 - our own table name


def predict(*, run, now: datetime, discount_yearly_pct: int) -> PredictionFit:
    """Fit both models on the orders before `now` and store the predictions (previous ones
    cleared first). Always writes the run's `PredictionFit`, with the reasons when the data
    do not allow a prediction."""
    started = time.monotonic()
    clear()
    today_date = timezone.localdate(now)
    today = _day_number(today_date)
    first_any = _run_first_day(now)
    history = today - first_any if first_any is not None else 0
    holdout = _holdout_days(history)
    cutoff = today - holdout + 1
    summary = summarise(now=now, today=today, cutoff=cutoff)
    fit = PredictionFit(
        run=run,
        customers=len(summary.x),
        repeat_customers=int((summary.x > 0).sum()),
        history_days=history,
        discount_yearly_pct=discount_yearly_pct,
    )
    problems = _data_problems(fit)
    if problems:
        return _finish(fit, FitStatus.INSUFFICIENT, problems, started)
    weeks = (summary.x, summary.t_x / WEEK, summary.T / WEEK)
    purchases = bgnbd.fit(*weeks)
    fit.diagnostics["bgnbd"] = _fit_diagnostics(purchases)
    if not purchases.ok:
        detail = _fit_detail(purchases)
        return _finish(fit, FitStatus.FAILED, [_problem("no_fit", detail=detail)], started)
    fit.r, fit.alpha, fit.a, fit.b = purchases.params.as_tuple()
    spend, problems = _fit_spend(summary, fit)
    fit.calibration = _calibration(summary, today=today, cutoff=cutoff, holdout=holdout)
    fit.bands = _store(
        summary,
        purchases.params,
        spend,
        today_date=today_date,
        monthly_discount=clv.monthly_rate(discount_yearly_pct / 100),
    )
    status = FitStatus.OK if spend is not None else FitStatus.PURCHASES_ONLY
    return _finish(fit, status, problems, started)


def _run_first_day(now: datetime) -> int | None:
    facts_sql, facts_params = commerce_selectors.live_order_facts(
        placed_before=now
    ).query.sql_with_params()
    day, day_params = berlin_day_sql("MIN(o.placed_at)")
    (first,), *_ = _run(
        f"SELECT {day} FROM ({facts_sql}) o WHERE o.customer_id IS NOT NULL",  # noqa: S608
        [*day_params, *facts_params],
    )
    return first


def _problem(code: str, **values) -> dict:
    return {"code": code, **values}


def _data_problems(fit: PredictionFit) -> list[dict]:
    problems = []
    if fit.customers < MIN_CUSTOMERS:
        problems.append(_problem("few_customers", n=fit.customers, min=MIN_CUSTOMERS))
    if fit.repeat_customers < MIN_REPEAT_CUSTOMERS:
        problems.append(_problem("few_repeat", n=fit.repeat_customers, min=MIN_REPEAT_CUSTOMERS))
    if fit.history_days < MIN_HISTORY_DAYS:
        problems.append(_problem("young_shop", n=fit.history_days, min=MIN_HISTORY_DAYS))
    return problems


def _fit_spend(summary: Summary, fit: PredictionFit):
    """Gamma-Gamma on the customers with repeat days of positive value; None (and why)
    when the spend model cannot be trusted: then purchases are predicted, values not."""
    m = summary.mean_spend
    usable = (summary.x > 0) & (m > 0)
    n = int(usable.sum())
    if n < MIN_SPEND_CUSTOMERS:
        return None, [_problem("few_spend", n=n, min=MIN_SPEND_CUSTOMERS)]
    x, m = summary.x[usable], m[usable]
    correlation = float(np.corrcoef(x, m)[0, 1]) if np.std(x) > 0 and np.std(m) > 0 else 0.0
    fit.spend_frequency_correlation = correlation
    if abs(correlation) > MAX_SPEND_CORRELATION:
        return None, [
            _problem("spend_correlation", n=round(correlation, 2), max=MAX_SPEND_CORRELATION)
        ]
    spend = gamma_gamma.fit(x, m)
    fit.diagnostics["gamma_gamma"] = _fit_diagnostics(spend)
    if not spend.ok:
        return None, [_problem("spend_no_fit", detail=_fit_detail(spend))]
    fit.p, fit.q, fit.gamma = spend.params.as_tuple()
    if spend.params.q <= 1:
        return None, [_problem("spend_unbounded")]
    return spend.params, []


def _fit_diagnostics(result) -> dict:
    return {
        "log_likelihood": result.log_likelihood,
        "customers": result.customers,
        "converged": result.converged,
        "at_bound": list(result.at_bound),
        "iterations": result.iterations,
        "evaluations": result.evaluations,
        "message": result.message,
        "standard_errors": list(result.standard_errors or []),
    }


def _fit_detail(result) -> str:
    if result.at_bound:
        return f"parameter at its bound: {', '.join(result.at_bound)}"
    if not result.converged:
        return result.message
    return "parameters not identifiable"


def _calibration(summary: Summary, *, today: int, cutoff: int, holdout: int) -> dict:
    """The holdout check (lifetimes' calibration vs holdout purchases): fit on the orders
    before the cut-off, predict the repeat purchase days of the last `holdout` days for the
    customers who had bought by then, and compare with what they did, grouped by their
    repeat purchases before the cut-off."""
    if holdout < 1 or cutoff - int(summary.first_day.min()) < MIN_CALIBRATION_DAYS:
        return {}
    known = summary.first_day < cutoff
    if known.sum() < MIN_CUSTOMERS:
        return {}
    first = summary.first_day[known]
    x_cal = (summary.cal_days[known] - 1).astype(float)
    t_cal = (summary.cal_last_day[known] - first).astype(float)
    T_cal = (cutoff - 1 - first).astype(float)
    actual = (summary.x[known] + 1 - summary.cal_days[known]).astype(float)
    if (x_cal > 0).sum() < MIN_REPEAT_CUSTOMERS:
        return {}
    result = bgnbd.fit(x_cal, t_cal / WEEK, T_cal / WEEK)
    if not result.ok:
        return {"error": _fit_detail(result)}
    predicted = bgnbd.conditional_expected_purchases(
        result.params, holdout / WEEK, x_cal, t_cal / WEEK, T_cal / WEEK
    )
    groups = np.minimum(x_cal, CALIBRATION_GROUPS).astype(int)
    rows = []
    for g in range(CALIBRATION_GROUPS + 1):
        members = groups == g
        if members.any():
            rows.append(
                [
                    g,
                    int(members.sum()),
                    float(predicted[members].mean()),
                    float(actual[members].mean()),
                ]
            )
    return {
        "cutoff": (EPOCH + timedelta(days=cutoff)).isoformat(),
        "holdout_days": holdout,
        "customers": int(known.sum()),
        "params": list(result.params.as_tuple()),
        "predicted_total": float(predicted.sum()),
        "actual_total": float(actual.sum()),
        "mean_absolute_error": float(np.abs(predicted - actual).mean()),
        "rows": rows,  # [purchases before the cut-off (7 = 7+), customers, predicted, actual]
    }


def churn_risk(x: np.ndarray, p_alive: np.ndarray) -> np.ndarray:
    bands = np.full(x.shape, ChurnRisk.VERY_HIGH.value, dtype=object)
    for band, lower in reversed(CHURN_BANDS):
        bands[p_alive >= lower] = band.value
    bands[x == 0] = ChurnRisk.ONE_TIME.value
    return bands


def _store(
    summary: Summary, purchases, spend, *, today_date: date, monthly_discount: float
) -> dict:
    """Write every customer's predictions; return the totals per churn-risk band."""
    x, t_x, T = summary.x, summary.t_x / WEEK, summary.T / WEEK
    p_alive = bgnbd.probability_alive(purchases, x, t_x, T)
    expected = [
        bgnbd.conditional_expected_purchases(purchases, days / WEEK, x, t_x, T)
        for days in HORIZONS_DAYS
    ]
    due_weeks = bgnbd.time_to_expected_purchases(
        purchases, x, t_x, T, horizon=365 / WEEK, steps=1 / WEEK
    )
    if spend is not None:
        value = clv.discounted_clv(
            purchases,
            spend,
            x,
            t_x,
            T,
            summary.mean_spend,
            month_length=MONTH_WEEKS,
            monthly_discount=monthly_discount,
        )
        value_cents = np.rint(value)
        clv_cents = value_cents.astype(np.int64).tolist()
    else:
        value_cents = None
        clv_cents = [None] * len(x)
    risk = churn_risk(x, p_alive)
    bands = {}
    for band in ChurnRisk.values:
        members = risk == band
        value = int(value_cents[members].sum()) if value_cents is not None else None
        bands[band] = [int(members.sum()), value, float(expected[1][members].sum())]
    due_days = np.rint(due_weeks * WEEK)
    next_order = [None if np.isnan(d) else today_date + timedelta(days=int(d)) for d in due_days]
    rows = zip(
        summary.customer_ids.tolist(),
        x.astype(int).tolist(),
        summary.t_x.astype(int).tolist(),
        summary.T.astype(int).tolist(),
        np.clip(p_alive, 0, 1).tolist(),
        expected[0].tolist(),
        expected[1].tolist(),
        next_order,
        clv_cents,
        risk.tolist(),
        strict=True,
    )
    _insert(rows)
    return bands


COLUMNS = (
    "customer_id",
    "repeat_purchases",
    "recency_days",
    "age_days",
    "p_alive",
    "expected_90",
    "expected_365",
    "next_order_on",
    "clv_cents",
    "churn_risk",
)


def _insert(rows) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany on SQLite (no model instances: 100,000
    rows through the ORM would cost more than the fit)."""
    table = connection.ops.quote_name(CustomerPrediction._meta.db_table)
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        rows = [(*row[:7], row[7] and row[7].isoformat(), *row[8:]) for row in rows]
        for start in range(0, len(rows), 10_000):
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                rows[start : start + 10_000],
            )


def _finish(fit: PredictionFit, status: str, problems: list[dict], started: float):
    fit.status = status
    fit.problems = problems
    fit.seconds = time.monotonic() - started
    fit.save()
    return fit


def problem_text(problem: dict) -> str:
    """A stored problem as the German (or English) sentence for the page."""
    template = PROBLEMS.get(problem.get("code"))
    if template is None:
        return str(problem)
    values = {k: v for k, v in problem.items() if k != "code"}
    for key, value in values.items():
        if isinstance(value, float):
            values[key] = f"{value:.2f}".replace(".", ",")
    return str(template) % values
