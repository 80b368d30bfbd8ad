from __future__ import annotations

from django.conf import settings


def describe_database_error(exc: Exception) -> str:
    """One line a shop owner can act on when the database cannot be reached."""
    db = settings.DATABASES["default"]
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    if db["ENGINE"].endswith("postgresql"):
        where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"
        return (
            f"cannot reach PostgreSQL at {where} ({first_line}). "
            "Is the server running and DATABASE_URL right?"
        )
    return f"cannot open the SQLite database {db['NAME']} ({first_line})."
