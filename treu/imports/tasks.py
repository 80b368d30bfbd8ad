from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def run_import_task(job_id: int) -> None:
    """Run a large import in the worker. A job that is not queued any more is left alone."""
    from treu.imports import services

    services.run_import(job_id)


@db_periodic_task(crontab(hour="3", minute="40"))
def purge_import_files() -> None:
    from treu.imports import services

    services.purge_files()
