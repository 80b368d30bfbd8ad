"""Writes of the analytics app: the recompute (and asking for one) and the owner's settings."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.analytics import computation, prediction
from treu.analytics.models import (
    AnalyticsSettings,
    FitStatus,
    Industry,
    PredictionFit,
    RecomputeRun,
    RunStatus,
    RunTrigger,
)

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
    )

    deleted = 0
    for model in (CustomerFigures, CustomerMonth, ActivitySpell, CustomerPrediction):
        deleted += model.objects.filter(customer_id=duplicate.pk).delete()[0]
    return deleted


def reset_for_demo() -> None:
    """Demo reset: the aggregates point at customers that are about to go."""
    computation.clear()
    prediction.clear()
    RecomputeRun.objects.all().delete()


def compute_for_demo() -> None:
    """Demo build finished: fill the dashboard at once (the demo has no worker running yet)."""
    recompute_analytics(trigger=RunTrigger.DEMO)
