"""Background work of automations: the runner every minute, the daily enrolment."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from treu.messaging.flows import engine, triggers


@db_periodic_task(crontab(minute="*"))
def run_flows_every_minute() -> None:
    # Claims are safe between workers (SKIP LOCKED and leases), so an overlap only shares work.
    engine.run_due_enrollments()


# Daily 05:07 UTC (06:07 or 07:07 in Berlin): after the nightly analytics recompute (01:43)
# and loyalty's expiry warnings, before anyone reads mail; the mails themselves still wait
# for the end of the quiet hours in each customer's zone.
@db_periodic_task(crontab(hour="5", minute="7"))
def enroll_flows_daily() -> None:
    with lock_task("treu-flows-daily"):
        triggers.enroll_daily()
