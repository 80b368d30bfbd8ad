"""PostgreSQL reads timestamps with psycopg's C loader, to exactly the values Django's gives."""

from __future__ import annotations

from datetime import UTC

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from treu.core.postgres import TIMESTAMPTZ_OID, UtcTimestamptzLoader, use_c_timestamp_loader

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# Old and new, fractions of a second, odd historical offsets, the ends of the range.
TIMESTAMPS = """
    SELECT timestamptz '1850-06-01 00:00:00.123456+00:53:28'
           + n * interval '7 days 3 hours 17 minutes 0.000013 seconds'
    FROM generate_series(1, 2000) AS n
    UNION ALL SELECT timestamptz '2024-03-31 02:30:00 Europe/Berlin'
    UNION ALL SELECT timestamptz '9999-12-31 23:59:59.999999+00'
    UNION ALL SELECT timestamptz '0001-01-01 00:00:00+00'
    UNION ALL SELECT NULL
"""


def _loader():
    from psycopg.pq import Format

    return connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


def test_connections_use_the_c_loader():
    connection.ensure_connection()
    assert _loader() is UtcTimestamptzLoader


def test_it_reads_what_djangos_loader_reads():
    with connection.cursor() as cursor:
        cursor.execute(TIMESTAMPS)
        ours = cursor.fetchall()
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's, for this cursor
        cursor.execute(TIMESTAMPS)
        djangos = cursor.fetchall()
    assert len(ours) == 2004
    assert ours == djangos
    assert all(row[0] is None or row[0].tzinfo is UTC for row in ours)
    assert all(type(a[0]) is type(b[0]) for a, b in zip(ours, djangos, strict=True))


def test_another_session_zone_keeps_djangos_loader():
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/Berlin'")
    try:
        register_tzloader(connection.timezone, connection.connection)  # Django's again
        djangos = _loader()
        use_c_timestamp_loader(sender=None, connection=connection)
        assert _loader() is djangos is not UtcTimestamptzLoader  # left alone: it converts
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
        use_c_timestamp_loader(sender=None, connection=connection)
    assert _loader() is UtcTimestamptzLoader
