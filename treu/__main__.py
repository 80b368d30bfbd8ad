"""`python -m treu <command>`: Django's management commands with a friendly start-up.

A wrong DATABASE_URL or an unreachable PostgreSQL gives one clear line
instead of a traceback.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treu.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "python -m treu"
    try:
        import django

        django.setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        print(f"treu: configuration problem: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        from treu.core.startup import describe_database_error

        print(f"treu: {describe_database_error(exc)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
