"""An import of a CSV file and the rows it could not take.

The file itself lives on disk under VAR_DIR/imports (never in the database) and is
deleted once it is no longer needed (see services.purge_files).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


COUNTED = ("created", "updated", "unchanged", "rejected")


class ImportJob(TimeStampedModel):
    original_filename = models.CharField(_("file"), max_length=255)
    stored_path = models.CharField(_("stored at"), max_length=500)
    file_size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    requested_format = models.CharField(_("format"), max_length=32, default="auto")
    detected_format = models.CharField(_("detected format"), max_length=32, blank=True)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    delimiter = models.CharField(_("separator"), max_length=1, blank=True)
    shop = models.ForeignKey(
        "commerce.Shop", verbose_name=_("shop"), on_delete=models.PROTECT, related_name="+"
    )
    dry_run = models.BooleanField(_("dry run"), default=True)
    status = models.CharField(
        _("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    failure_reason = models.TextField(_("why it failed"), blank=True)
    source_job = models.ForeignKey(
        "self",
        verbose_name=_("dry run it repeats"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeats",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    rows_done = models.PositiveBigIntegerField(_("rows read"), default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)
    error_count = models.PositiveBigIntegerField(_("errors"), default=0)
    customers_created = models.PositiveIntegerField(default=0)
    customers_updated = models.PositiveIntegerField(default=0)
    customers_unchanged = models.PositiveIntegerField(default=0)
    customers_rejected = models.PositiveIntegerField(default=0)
    orders_created = models.PositiveIntegerField(default=0)
    orders_updated = models.PositiveIntegerField(default=0)
    orders_unchanged = models.PositiveIntegerField(default=0)
    orders_rejected = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("CSV import")
        verbose_name_plural = _("CSV imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_filename

    @property
    def is_active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.file_size:
            return 0
        return min(100, int(self.bytes_done * 100 / self.file_size))

    @property
    def format_label(self) -> str:
        from treu.imports.formats import FORMATS

        fmt = FORMATS.get(self.detected_format)
        return str(fmt.label) if fmt else self.detected_format

    def counts(self, entity: str) -> dict[str, int]:
        return {what: getattr(self, f"{entity}_{what}") for what in COUNTED}


class ImportRowError(models.Model):
    """A row (or an order spanning rows) that was not imported, and why, in German.

    Reasons name columns and expected values, never the person in the row.
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveBigIntegerField(_("line"))
    column = models.CharField(_("column"), max_length=100, blank=True)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("import error")
        verbose_name_plural = _("import errors")
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="import_error_job_line")]

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}"
