"""Background work of the loyalty programme."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from treu.loyalty import services


@db_periodic_task(crontab(minute="7"))
def release_pending_points() -> None:
    # Hourly: points become available at most an hour after their return window ends.
    services.release_pending_points()
