from __future__ import annotations

from django.db.models import QuerySet

from treu.imports.models import ImportJob, ImportRowError


def job_list() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("shop", "created_by", "source_job")


def job_detail(job_id: int) -> ImportJob:
    return ImportJob.objects.select_related("shop", "created_by", "source_job").get(pk=job_id)


def row_errors(job: ImportJob) -> QuerySet[ImportRowError]:
    return job.row_errors.order_by("line", "id")


def real_import_of(job: ImportJob) -> ImportJob | None:
    """The real import already started from this dry run, if any."""
    return job.repeats.order_by("-created_at").first()
