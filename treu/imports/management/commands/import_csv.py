"""python -m treu import_csv FILE --shop CODE [--format …] [--dry-run]"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from treu.commerce import selectors as commerce_selectors
from treu.imports import formats, selectors, services
from treu.imports.models import JobStatus

SHOWN_ERRORS = 50


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


class Command(BaseCommand):
    help = "Import customers or orders from a CSV file (Shopify, WooCommerce or treu format)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--format", default=formats.AUTO, choices=[formats.AUTO, *formats.FORMATS]
        )
        parser.add_argument("--shop", help="Code of the shop the file comes from.")
        parser.add_argument("--dry-run", action="store_true", help="Only report what would change.")

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            self._import(options)

    def _import(self, options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("The file %(path)s does not exist.") % {"path": path})
        shop = self._shop(options["shop"])
        try:
            job = services.create_import_job(
                path=path,
                original_filename=path.name,
                shop=shop,
                requested_format=options["format"],
                dry_run=options["dry_run"],
            )
        except services.ImportRefused as refused:
            raise CommandError(" ".join(refused.messages)) from None
        self.started = time.monotonic()
        job = services.run_import(job.pk, progress=self._progress)
        sys.stderr.write("\n")
        self._summary(job)
        if job.status == JobStatus.FAILED:
            raise CommandError(job.failure_reason)

    def _shop(self, code: str | None):
        shops = list(commerce_selectors.shops())
        if code:
            for shop in shops:
                if shop.code == code:
                    return shop
            known = ", ".join(s.code for s in shops) or "–"
            raise CommandError(
                _("There is no shop %(code)s. Known shops: %(known)s.")
                % {"code": code, "known": known}
            )
        if len(shops) == 1:
            return shops[0]
        raise CommandError(_("Name the shop the file comes from with --shop CODE."))

    def _progress(self, job) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        sys.stderr.write(
            "\r"
            + _("%(rows)s rows · %(percent)d %% · %(rate)s rows/s")
            % {
                "rows": _n(job.rows_done),
                "percent": job.percent,
                "rate": _n(int(job.rows_done / elapsed)),
            }
        )
        sys.stderr.flush()

    def _summary(self, job) -> None:
        out = self.stdout
        heading = _("Dry run – nothing was saved.") if job.dry_run else _("Import finished.")
        out.write(heading)
        out.write(
            _("File: %(name)s (%(format)s, %(encoding)s, separator %(delimiter)s)")
            % {
                "name": job.original_filename,
                "format": job.format_label,
                "encoding": job.encoding,
                "delimiter": repr(job.delimiter),
            }
        )
        out.write(_("Rows read: %(rows)s") % {"rows": _n(job.rows_done)})
        for entity, label in (("customers", _("Customers")), ("orders", _("Orders"))):
            c = job.counts(entity)
            out.write(
                _(
                    "%(label)s: %(created)s created, %(updated)s updated, "
                    "%(unchanged)s unchanged, %(rejected)s refused"
                )
                % {"label": label, **{k: _n(v) for k, v in c.items()}}
            )
        elapsed = time.monotonic() - self.started
        out.write(_("Time: %(seconds).1f s") % {"seconds": elapsed})
        errors = list(selectors.row_errors(job)[:SHOWN_ERRORS])
        for error in errors:
            column = f" [{error.column}]" if error.column else ""
            out.write(
                _("Line %(line)d%(column)s: %(reason)s")
                % {"line": error.line, "column": column, "reason": error.reason}
            )
        if job.error_count > len(errors):
            out.write(
                _("… and %(n)s more errors (see the import in the back office).")
                % {"n": _n(job.error_count - len(errors))}
            )
