"""The import app's rows hold no personal data of their own (see treu.core.privacy).

The uploaded files do: they live on disk under VAR_DIR/imports, not in the database,
and are deleted when a real import finished, or KEEP_FILES_DAYS after a dry run
(services.purge_files, run nightly by the worker).
"""

from __future__ import annotations

from treu.core import privacy
from treu.imports.models import ImportJob, ImportRowError

privacy.not_personal(
    ImportJob,
    reason="File name, counts and progress of an import; the file itself is kept on disk "
    "for at most 7 days.",
)
privacy.not_personal(
    ImportRowError,
    reason="Line number, column and a German reason naming the expected value, never the "
    "values of the row.",
)
