"""Writes of the analytics app: the recompute (and asking for one) and the owner's settings."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from treu.analytics import computation, experiments, selectors
from treu.analytics import report as report_module
from treu.analytics.models import (
    AnalyticsSettings,
    Experiment,
    ExperimentDecision,
    ExperimentStatus,
    FitStatus,
    Industry,
    PredictionFit,
    RecomputeRun,
    ReportMail,
    RunStatus,
    RunTrigger,
    month_index,
)
from treu.analytics.recommendations import computation as recommendations
from treu.core import roles

log = logging.getLogger(__name__)


class AnalyticsError(ValidationError):
    """A refused change, with a German message per field; nothing was written."""


@dataclass(frozen=True)
class RecomputeResult:
    run: RecomputeRun
    orders: int
    customers: int
    seconds: float


def _settings_for_update() -> AnalyticsSettings:
    """The settings row, locked: two recomputes never interleave their DELETEs and INSERTs."""
    AnalyticsSettings.objects.get_or_create(pk=1)
    return AnalyticsSettings.objects.select_for_update().get(pk=1)


@transaction.atomic
def recompute_analytics(
    *, trigger: str = RunTrigger.COMMAND, run: RecomputeRun | None = None, now=None
) -> RecomputeResult:
    """Rebuild every aggregate table from the orders, in one transaction.

    Readers keep seeing the previous figures until the commit. `run` is a queued run
    (from the button); without one a run row is written for the stamp.
    """
    now = now or timezone.now()
    started = time.monotonic()
    settings = _settings_for_update()
    if run is None:
        run = RecomputeRun.objects.create(trigger=trigger, status=RunStatus.RUNNING)
    run.started_at = timezone.now()
    computed = computation.compute(now=now, window=settings.active_window_months)
    recommendations.compute(now=now)
    _predict(run=run, now=now, settings=settings)
    seconds = time.monotonic() - started
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.as_of = now
    run.duration_ms = round(seconds * 1000)
    run.orders = computed.orders
    run.customers = computed.customers
    run.error = ""
    run.save()
    return RecomputeResult(
        run=run, orders=computed.orders, customers=computed.customers, seconds=seconds
    )


def _predict(*, run: RecomputeRun, now, settings: AnalyticsSettings) -> None:
    """BG/NBD and Gamma-Gamma (treu.analytics.prediction). In a savepoint: a model that
    breaks must not cost the owner the descriptive figures; the run records why."""
    from treu.analytics import prediction  # numpy/scipy: only where a recompute runs

    try:
        with transaction.atomic():
            prediction.predict(run=run, now=now, discount_yearly_pct=settings.clv_discount_pct)
    except Exception as exc:
        log.exception("Prediction of recompute %s failed", run.pk)
        prediction.clear()
        PredictionFit.objects.update_or_create(
            run=run,
            defaults={
                "status": FitStatus.FAILED,
                "problems": [{"code": "no_fit", "detail": str(exc)[:500]}],
            },
        )


def request_recompute(*, by=None, trigger: str = RunTrigger.BUTTON) -> RecomputeRun:
    """Queue a recompute for the worker (sent once this transaction commits).

    A run already waiting is reused: pressing the button twice computes once.
    """
    from treu.analytics import tasks

    with transaction.atomic():
        waiting = RecomputeRun.objects.filter(status=RunStatus.QUEUED).first()
        if waiting is not None:
            return waiting
        run = RecomputeRun.objects.create(trigger=trigger, requested_by=by)
        transaction.on_commit(lambda: tasks.recompute(run.pk))
    return run


def run_queued_recompute(run_id: int) -> RecomputeRun | None:
    """The worker's half of `request_recompute`: idempotent (a finished run is not redone)."""
    with transaction.atomic():
        run = RecomputeRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.QUEUED:
            return run
        run.status = RunStatus.RUNNING
        run.save(update_fields=["status", "updated_at"])
    try:
        return recompute_analytics(trigger=run.trigger, run=run).run
    except Exception as exc:
        log.exception("Analytics recompute %s failed", run_id)
        RecomputeRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise


def update_settings(
    *,
    active_window_months: int,
    target_retention_pct: int,
    target_churn_pct: int,
    target_clv_cents: int,
    target_nps: int,
    industry: str,
    monthly_report: bool = True,
    clv_discount_pct: int | None = None,
) -> AnalyticsSettings:
    """Save the owner's settings; a new active window or discount rate takes effect with the
    next recompute. `clv_discount_pct` None keeps the current rate."""
    errors: dict[str, list[str]] = {}
    if not 1 <= active_window_months <= 36:
        errors["active_window_months"] = [_("Choose between 1 and 36 months.")]
    for name, value in (
        ("target_retention_pct", target_retention_pct),
        ("target_churn_pct", target_churn_pct),
    ):
        if not 0 <= value <= 100:
            errors[name] = [_("A percentage between 0 and 100, please.")]
    if target_clv_cents < 0:
        errors["target_clv_cents"] = [_("Amounts must not be negative.")]
    if not -100 <= target_nps <= 100:
        errors["target_nps"] = [_("The NPS lies between −100 and 100.")]
    if industry not in Industry.values:
        errors["industry"] = [_("Unknown industry.")]
    if clv_discount_pct is not None and not 0 <= clv_discount_pct <= 50:
        errors["clv_discount_pct"] = [_("A yearly rate between 0 and 50 %, please.")]
    if errors:
        raise AnalyticsError(errors)
    with transaction.atomic():
        settings = _settings_for_update()
        settings.active_window_months = active_window_months
        settings.target_retention_pct = target_retention_pct
        settings.target_churn_pct = target_churn_pct
        settings.target_clv_cents = target_clv_cents
        settings.target_nps = target_nps
        settings.industry = industry
        settings.monthly_report = monthly_report
        if clv_discount_pct is not None:
            settings.clv_discount_pct = clv_discount_pct
        settings.save()
    return settings


def delete_customer_figures(*, survivor, duplicate) -> int:
    """Merge handler: the duplicate's figures go; the next recompute counts the survivor's."""
    from treu.analytics.models import (
        ActivitySpell,
        CustomerFigures,
        CustomerMonth,
        CustomerPrediction,
        CustomerProduct,
    )

    deleted = 0
    for model in (
        CustomerFigures,
        CustomerMonth,
        ActivitySpell,
        CustomerProduct,
        CustomerPrediction,
    ):
        deleted += model.objects.filter(customer_id=duplicate.pk).delete()[0]
    return deleted


def reset_for_demo() -> None:
    """Demo reset: the aggregates point at customers that are about to go."""
    from treu.analytics import prediction

    computation.clear()
    recommendations.clear()
    prediction.clear()
    RecomputeRun.objects.all().delete()


def compute_for_demo() -> None:
    """Demo build finished: fill the dashboard at once (the demo has no worker running yet)."""
    recompute_analytics(trigger=RunTrigger.DEMO)


def send_monthly_report(
    *, month: int | None = None, now: datetime | None = None
) -> ReportMail | None:
    """Mail a month's report (by default last month's) to the owners, once.

    Only once the figures were computed after the month ended, so the report holds the
    whole month. The mail's row is written in the same transaction as the sending: a mail
    server that fails leaves nothing behind and the next daily run tries again; two
    workers at once send it once (the second waits for the first's row, then stops).
    Returns the row, or None when nothing was (or needed to be) sent.
    """
    now = now or timezone.now()
    if not selectors.analytics_settings().monthly_report:
        return None
    month = month if month is not None else month_index(timezone.localdate(now)) - 1
    done = selectors.run_state().last_done
    if done is None or month_index(timezone.localdate(done.as_of)) <= month:
        return None  # not computed since the month ended: the nightly run comes first
    recipients = roles.owner_addresses()
    if not recipients:
        log.info("Monthly report for %s not sent: no owner has an email address", month)
        return None
    if ReportMail.objects.filter(month_index=month).exists():
        return None
    report = report_module.monthly_report(month, rfm_as_of=done.as_of)
    if report is None or report.is_empty:
        return None
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = ReportMail.objects.create(
                    month_index=month, sent_at=now, recipients="\n".join(recipients)
                )
        except IntegrityError:
            return None  # another worker has sent it
        _report_message(report, recipients).send()
    return row


def _report_message(report: report_module.MonthlyReport, recipients: list[str]):
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import formats

    with translation.override(settings.LANGUAGE_CODE):
        month_name = formats.date_format(report.month_date, "F Y")
        context = {
            "report": report,
            "month_name": month_name,
            "site_url": settings.SITE_URL,
            "report_url": settings.SITE_URL
            + reverse("analytics:report")
            + f"?month={report.month_date:%Y-%m}",
        }
        subject = _("Your monthly report for %(month)s") % {"month": month_name}
        text = render_to_string("analytics/email/monthly_report.txt", context)
        html = render_to_string("analytics/email/monthly_report.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(html, "text/html")
    return message


# -- The experiment log ------------------------------------------------------------------------


def start_experiment(
    *,
    title: str,
    hypothesis: str,
    metric: str,
    first_month: int,
    months: int,
    control_group: str = "",
    by=None,
    now: datetime | None = None,
) -> Experiment:
    """Write an experiment down, with its baseline: the figure for the months before it.

    With `control_group` (a campaign's or automation's send) it is also measured as
    recipients against the people held back from that send."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if control_group and control_group not in dict(experiments.control_group_choices()):
        errors["control_group"] = [
            _("Choose a campaign or automation that holds back a control group.")
        ]
    if not title.strip():
        errors["title"] = [_("Give the experiment a name.")]
    if not hypothesis.strip():
        errors["hypothesis"] = [
            _(
                "Write down what you expect, e.g. “A thank-you mail after the first order "
                "brings more second orders.”"
            )
        ]
    if metric not in experiments.METRICS:
        errors["metric"] = [_("Choose one of the figures offered.")]
    if months not in experiments.PERIODS:
        errors["months"] = [_("An experiment runs 1, 3 or 12 months.")]
    if errors:
        raise AnalyticsError(errors)
    baseline = experiments.figure(metric, months=months, last_month=first_month - 1)
    return Experiment.objects.create(
        title=title.strip()[:200],
        hypothesis=hypothesis.strip(),
        metric=metric,
        first_month=first_month,
        months=months,
        baseline=baseline,
        control_group=control_group,
        created_by=by,
        created_at=now,
    )


def evaluate_experiment(experiment: Experiment, *, now: datetime | None = None) -> Experiment:
    """Take the result once the experiment's months are over and computed.

    One measured against a control group can be measured at any time, and again until it
    is decided: the groups' figures only grow more telling."""
    now = now or timezone.now()
    if experiment.control_group:
        return _measure_against_control_group(experiment, now)
    done = selectors.run_state().last_done
    computed_month = month_index(timezone.localdate(done.as_of)) if done else None
    if computed_month is None or computed_month <= experiment.last_month:
        raise AnalyticsError(
            {
                "experiment": [
                    _(
                        "The experiment runs until the end of %(month)s; it can be "
                        "evaluated once the figures of that month are computed."
                    )
                    % {"month": formats.date_format(experiment.last_month_date, "F Y")}
                ]
            }
        )
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
        experiment.result = experiments.figure(
            experiment.metric, months=experiment.months, last_month=experiment.last_month
        )
        experiment.status, experiment.evaluated_at = ExperimentStatus.EVALUATED, now
        experiment.save(update_fields=["result", "status", "evaluated_at"])
    return experiment


def _measure_against_control_group(experiment: Experiment, now: datetime) -> Experiment:
    if experiment.decision:
        raise AnalyticsError(
            {"experiment": [_("The experiment is decided; its measurement stays as it was.")]}
        )
    figures = experiments.measure_against_control_group(experiment.control_group, now=now)
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
        for name, value in figures.items():
            setattr(experiment, name, value)
        done = selectors.run_state().last_done
        computed_month = month_index(timezone.localdate(done.as_of)) if done else None
        if computed_month is not None and computed_month > experiment.last_month:
            experiment.result = experiments.figure(
                experiment.metric, months=experiment.months, last_month=experiment.last_month
            )
        experiment.status, experiment.evaluated_at = ExperimentStatus.EVALUATED, now
        experiment.save()
    return experiment


def decide_experiment(experiment: Experiment, *, decision: str, notes: str) -> Experiment:
    """The owner's decision after measuring, and what they learned."""
    if decision not in ExperimentDecision.values:
        raise AnalyticsError({"decision": [_("Choose one of the decisions offered.")]})
    Experiment.objects.filter(pk=experiment.pk).update(decision=decision, notes=notes.strip())
    experiment.decision, experiment.notes = decision, notes.strip()
    return experiment
