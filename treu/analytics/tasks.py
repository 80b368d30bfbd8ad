"""Background work of analytics: the nightly recompute and the one the button asks for."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from treu.analytics import services
from treu.analytics.models import RunTrigger


@db_task()
def recompute(run_id: int) -> None:
    # Not retried: a failure is stamped on the run and shown on the dashboard.
    services.run_queued_recompute(run_id)


@db_periodic_task(crontab(hour="1", minute="43"))
def recompute_nightly() -> None:
    # Nightly, before the working day: yesterday's orders, returns and cancellations counted.
    services.recompute_analytics(trigger=RunTrigger.NIGHTLY)


@db_periodic_task(crontab(hour="7", minute="12"))
def send_monthly_report() -> None:
    # Daily, after the nightly recompute: sends last month's report once, on the first day
    # its figures are complete; a failed sending is tried again the next day.
    services.send_monthly_report()
