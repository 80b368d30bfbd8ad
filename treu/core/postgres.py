"""PostgreSQL connections read timestamps with psycopg's C loader.

Django registers its own `timestamptz` loader on every psycopg 3 connection, a Python
subclass of psycopg's pure-Python loader (`psycopg_any.BaseTzLoader`), so that values
come back in the connection's time zone. It parses each value in Python: about 8 µs a
timestamp, a twentieth of a batch API call (thousands of customers, orders and members
read back, each with several timestamps). With USE_TZ and the session in UTC, which is
how Django sets up its connections, psycopg's C loader (psycopg[binary], a dependency)
returns exactly the same values: aware datetimes with `datetime.timezone.utc`. This
registers that one instead, only when all of this holds; otherwise Django's stays.
"""

from __future__ import annotations

from datetime import UTC

from psycopg import adapters
from psycopg.adapt import Loader

try:  # the C implementation that psycopg[binary] brings
    from psycopg_binary._psycopg import TimestamptzLoader as _CTimestamptzLoader
except ImportError:  # pragma: no cover - psycopg without its binary part
    _CTimestamptzLoader = None

TIMESTAMPTZ_OID = adapters.types["timestamptz"].oid


class UtcTimestamptzLoader(Loader):
    """psycopg's C loader behind the face Django expects (C types cannot be subclassed)."""

    # Django compares this with the connection's zone before each cursor and registers
    # its own loader again when they differ (see DatabaseWrapper.create_cursor).
    timezone = UTC

    def __init__(self, oid: int, context=None) -> None:
        super().__init__(oid, context)
        # psycopg takes each loader's `load` once per result: the C method, no Python frame.
        self.load = _CTimestamptzLoader(oid, context).load

    def load(self, data):  # pragma: no cover - shadowed by the instance's C method
        return self.load(data)


def use_c_timestamp_loader(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: swap in the C loader where it gives the same values."""
    if connection.vendor != "postgresql" or _CTimestamptzLoader is None:
        return
    raw = connection.connection
    if connection.timezone is not UTC or raw.info.parameter_status("TimeZone") != "UTC":
        return  # naive datetimes or another zone: Django's loader converts, keep it
    raw.adapters.register_loader(TIMESTAMPTZ_OID, UtcTimestamptzLoader)
