"""Every write of the import app: storing an upload as a job, running it, repeating it for real."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from treu.imports import formats, reading
from treu.imports.engine import Importer
from treu.imports.models import ImportJob, JobStatus

log = logging.getLogger(__name__)

# Files up to this size are imported while the browser waits; larger ones go to the worker.
INLINE_MAX_BYTES = 1024 * 1024
# Uploaded files hold personal data: they are deleted this long after their last import.
KEEP_FILES_DAYS = 7


class ImportRefused(ValidationError):
    """The file cannot be imported at all; the message is German and says why."""


def import_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store(upload) -> Path:
    target = import_dir() / f"{uuid.uuid4().hex}.csv"
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return target


def create_import_job(
    *,
    shop,
    upload=None,
    path: Path | str | None = None,
    original_filename: str = "",
    requested_format: str = formats.AUTO,
    dry_run: bool = True,
    created_by=None,
) -> ImportJob:
    """Store an uploaded file (or take a file on this server, for the command) as a queued job.

    The file's encoding, separator and format are checked first; a file that cannot be
    imported raises ImportRefused with the German reason, and nothing is kept.
    """
    if (upload is None) == (path is None):
        raise ValueError("Give either an upload or a path.")
    stored = _store(upload) if upload is not None else Path(path).resolve()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            layout = reading.inspect(stored)
            fmt = formats.choose(layout.header, requested_format)
    except reading.FileRefused as refused:
        if upload is not None:
            stored.unlink(missing_ok=True)
        raise ImportRefused(refused.reason) from None
    except OSError:
        raise ImportRefused(_("The file cannot be opened.")) from None
    return ImportJob.objects.create(
        original_filename=(original_filename or getattr(upload, "name", "") or stored.name)[:255],
        stored_path=str(stored),
        file_size=layout.size,
        requested_format=requested_format or formats.AUTO,
        detected_format=fmt.key,
        encoding=layout.encoding,
        delimiter=layout.delimiter,
        shop=shop,
        dry_run=dry_run,
        created_by=created_by,
    )


def start_import(job: ImportJob) -> ImportJob:
    """Small files run now, in this request; larger ones in the worker."""
    if job.file_size <= INLINE_MAX_BYTES:
        return run_import(job.pk)
    from treu.imports.tasks import run_import_task

    transaction.on_commit(lambda: run_import_task(job.pk))
    return job


def run_import(job_id: int, *, progress=None) -> ImportJob:
    """Run a queued job to its end. Running a job that is not queued does nothing."""
    claimed = ImportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    job = ImportJob.objects.select_related("shop").get(pk=job_id)
    if not claimed:
        return job
    try:
        with translation.override(settings.LANGUAGE_CODE):
            Importer(job, progress=progress).run()
    except reading.FileRefused as refused:
        job.status, job.failure_reason = JobStatus.FAILED, refused.reason
    except Exception:
        log.exception("Import %s failed", job.pk)
        job.refresh_from_db()
        job.status = JobStatus.FAILED
        with translation.override(settings.LANGUAGE_CODE):
            job.failure_reason = _(
                "The import stopped because of an unexpected error. What was imported up to "
                "then stays; importing the file again continues where it stopped."
            )
    else:
        job.refresh_from_db()
        job.status = JobStatus.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "failure_reason", "finished_at", "updated_at"])
    if not job.dry_run and job.status == JobStatus.DONE:
        _drop_file(job)
    return job


@transaction.atomic
def import_for_real(job: ImportJob, *, created_by=None) -> ImportJob:
    """After a dry run: the same file, same format and shop, this time written."""
    if not job.dry_run or job.status != JobStatus.DONE:
        raise ImportRefused(_("Only a finished dry run can be imported for real."))
    if not Path(job.stored_path).exists():
        raise ImportRefused(
            _("The file of this dry run is no longer kept; please upload it again.")
        )
    return ImportJob.objects.create(
        original_filename=job.original_filename,
        stored_path=job.stored_path,
        file_size=job.file_size,
        requested_format=job.detected_format or job.requested_format,
        detected_format=job.detected_format,
        encoding=job.encoding,
        delimiter=job.delimiter,
        shop=job.shop,
        dry_run=False,
        source_job=job,
        created_by=created_by,
    )


def _is_upload(path: Path) -> bool:
    try:
        return path.resolve().parent == import_dir().resolve()
    except OSError:
        return False


def _drop_file(job: ImportJob) -> None:
    """Delete an uploaded file no queued or running job still needs (never the command's file)."""
    path = Path(job.stored_path)
    if not _is_upload(path):
        return
    still_needed = ImportJob.objects.filter(
        stored_path=job.stored_path, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).exclude(pk=job.pk)
    if not still_needed.exists():
        path.unlink(missing_ok=True)


def purge_files(*, now=None) -> int:
    """Delete uploaded files whose jobs all finished more than KEEP_FILES_DAYS ago."""
    cutoff = (now or timezone.now()) - timedelta(days=KEEP_FILES_DAYS)
    active = set(
        ImportJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).values_list(
            "stored_path", flat=True
        )
    ) | set(ImportJob.objects.filter(created_at__gte=cutoff).values_list("stored_path", flat=True))
    removed = 0
    for path in import_dir().glob("*.csv"):
        if str(path) not in active and str(path.resolve()) not in active:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
