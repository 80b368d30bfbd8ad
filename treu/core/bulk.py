"""Bulk writes that need the new rows' ids (order lines point at their orders).

`insert_rows` is the fast path for batch ingestion (plain tuples, COPY on PostgreSQL);
`bulk_create_with_ids` takes model instances; `update_rows` changes existing rows.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import signals
from django.db.models.base import ModelState

M = TypeVar("M", bound=models.Model)
_first = itemgetter(0)
_PLAIN = {
    "CharField": str, "TextField": str, "SlugField": str, "IntegerField": int,
    "BigIntegerField": int, "PositiveIntegerField": int, "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int, "SmallIntegerField": int, "ForeignKey": int,
}  # fmt: skip


def bulk_create_with_ids(model: type[M], objs: Sequence[M]) -> list[M]:
    """`bulk_create` that is cheaper per row and always leaves each object with its id.

    Django's bulk_create spends most of its time compiling the SQL per value and splits
    SQLite statements at 999 values; here the values are prepared exactly as Django
    prepares them for saving (`pre_save`, so auto_now_add applies, then
    `get_db_prep_save`) and written like `insert_rows` does (ids first, then COPY or
    executemany). Like bulk_create, `save()` and signals are not called. Assumes an
    auto-incrementing primary key. Must run inside `transaction.atomic()`.
    """
    objs = list(objs)
    if not objs:
        return []
    opts = model._meta
    fields = [f for f in opts.local_concrete_fields if f is not opts.pk]
    relations = [f for f in fields if f.is_relation]
    # Plain str and int values pass unchanged through get_db_prep_save of text and integer
    # fields; skipping the call for them halves the cost per row.
    prepared = [(f, _PLAIN.get(f.get_internal_type())) for f in fields]
    db = _connection()
    rows = []
    for obj in objs:
        for field in relations:  # a related object saved since it was assigned
            if getattr(obj, field.attname) is None and field.is_cached(obj):
                related = field.get_cached_value(obj)
                if related is not None:
                    setattr(obj, field.attname, related.pk)
        row = []
        for field, plain in prepared:
            value = field.pre_save(obj, True)
            if value is None or type(value) is not plain:
                value = field.get_db_prep_save(value, db)
            row.append(value)
        rows.append(row)
    _check_atomic()
    with connection.cursor() as cursor:
        ids = _allocate_ids(cursor, opts.db_table, opts.pk.column, len(objs))
        for pk_value, row in zip(ids, rows, strict=True):
            row.insert(0, pk_value)
        _write(cursor, model, [opts.pk, *fields], rows)
    alias = connection.alias
    for obj, pk_value in zip(objs, ids, strict=True):
        obj.pk = pk_value
        obj._state.adding = False
        obj._state.db = alias
    return objs


def _connection():
    """The connection `connection` stands for, looked up once: each attribute read through
    Django's proxy is a context-local lookup (~5 µs), and preparing a value reads several."""
    return connections[DEFAULT_DB_ALIAS]


def _check_atomic() -> None:
    if not connection.in_atomic_block:
        # SQLite's ids are read before the write: only safe under the transaction's lock.
        raise RuntimeError("Bulk inserts with ids must run inside transaction.atomic().")


def _write(cursor, model: type[models.Model], columns: list, rows: Sequence[Sequence]) -> None:
    """Write rows of values already in the database's form: COPY or executemany."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    column_sql = ", ".join(qn(f.column) for f in columns)
    if connection.vendor == "postgresql":
        # COPY bypasses Django's execute(): translate errors (a unique clash) and log it
        # like any other statement (tests pin query counts) here.
        sql = f"COPY {table} ({column_sql}) FROM STDIN"  # noqa: S608 - model names
        logged = cursor.debug_sql(sql) if connection.queries_logged else nullcontext()
        with logged, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for values in rows:
                copy.write_row(values)
    else:
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )


def update_rows(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]
) -> int:
    """Write `fields` of many existing rows, from model instances (see `update_values`).

    Does what `bulk_update` does, but without its CASE WHEN per row and field, which costs
    Django about a millisecond per row to build. Like bulk_update, `save()`, signals and
    auto_now are not applied: set such values on the objects yourself.
    """
    if not objs:
        return 0
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    db = _connection()
    rows = [
        (obj.pk, *(field.get_db_prep_save(getattr(obj, field.attname), db) for field in columns))
        for obj in objs
    ]
    return _update(model, columns, rows)


def update_values(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]
) -> int:
    """Set `fields` of existing rows from plain tuples `(pk, value, …)` of Python values.

    The instance-free sibling of `update_rows` (values adapted as in `insert_rows`).
    PostgreSQL: one UPDATE … FROM unnest(arrays) per call, so psycopg binds one array per
    column instead of parsing a placeholder per value; SQLite: an `executemany` of a
    one-row UPDATE by primary key, which SQLite runs in C at a few microseconds a row.
    """
    if not rows:
        return 0
    columns = [model._meta.get_field(name) for name in fields]
    return _update(model, columns, _adapted(columns, rows))


def combine_values(
    model: type[models.Model], fields: Sequence[tuple[str, str]], rows: Sequence[Sequence]
) -> int:
    """Fold values into existing rows: `(field, op)` with op "add", "min" or "max".

    Like `update_values` (rows are `(pk, value, …)`), but each new value is combined
    with the stored one inside the statement (NULL stored counts as absent), so no read
    is needed first and two transactions adding to the same row both count: PostgreSQL
    re-reads a row changed by a concurrent commit before applying the expression.
    """
    ops = [op for _name, op in fields]
    unknown = set(ops) - set(_COMBINE) - {"set"}
    if unknown:
        raise ValueError(f"Unknown ways to combine: {sorted(unknown)}")
    if not rows:
        return 0
    columns = [model._meta.get_field(name) for name, _op in fields]
    return _update(model, columns, _adapted(columns, rows), ops)


def _adapted(columns: list, rows: Sequence[Sequence]) -> Sequence[Sequence]:
    """Rows `(pk, value, …)` with each value in the form `insert_rows` sends (see `_adapter`)."""
    adapters = [
        (n, adapt)
        for n, f in enumerate(columns, start=1)
        if (adapt := _adapter(f, connection.vendor)) is not None
    ]
    if not adapters:
        return rows
    prepared = []
    for row in rows:
        values = list(row)
        for index, adapt in adapters:
            values[index] = adapt(values[index])
        prepared.append(values)
    return prepared


_COMBINE = {
    # op: (PostgreSQL with the stored value and the new one v.cN, SQLite with placeholders)
    "set": ("{new}", "%s"),
    "add": ("{stored} + {new}", "{col} + %s"),
    "min": ("LEAST({stored}, {new})", "coalesce(min({col}, %s), %s)"),
    "max": ("GREATEST({stored}, {new})", "coalesce(max({col}, %s), %s)"),
}


def _update(
    model: type[models.Model],
    columns: list,
    rows: Sequence[Sequence],
    ops: Sequence[str] | None = None,
) -> int:
    # In key order: pages and index entries are visited in sequence, and two batches
    # updating the same rows lock them in the same order instead of deadlocking.
    rows = sorted(rows, key=_first)
    ops = ops or ["set"] * len(columns)
    vendor = connection.vendor
    opts = model._meta
    qn = connection.ops.quote_name
    table, pk = qn(opts.db_table), qn(opts.pk.column)
    if vendor == "postgresql":
        width = len(columns) + 1
        arrays = [_pg_array([row[n] for row in rows]) for n in range(width)]
        unnest = ", ".join(
            f"%s::{field.cast_db_type(connection)}[]" for field in [opts.pk, *columns]
        )
        names = ", ".join(f"c{n}" for n in range(width))
        assignments = ", ".join(
            f"{qn(field.column)} = "
            + _COMBINE[op][0].format(stored=f"{table}.{qn(field.column)}", new=f"v.c{n}")
            for n, (field, op) in enumerate(zip(columns, ops, strict=True), start=1)
        )
        sql = (
            f"UPDATE {table} SET {assignments} "  # noqa: S608 - names from the model
            f"FROM unnest({unnest}) AS v({names}) WHERE {table}.{pk} = v.c0"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, arrays)
            return cursor.rowcount
    if vendor == "sqlite":
        assignments = ", ".join(
            f"{qn(field.column)} = " + _COMBINE[op][1].format(col=qn(field.column))
            for field, op in zip(columns, ops, strict=True)
        )
        sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608 - model names
        twice = [op in ("min", "max") for op in ops]  # their SQL names the value twice
        if any(twice):
            params = [(*_doubled(row[1:], twice), row[0]) for row in rows]
        else:
            params = [(*row[1:], row[0]) for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
            return cursor.rowcount
    raise NotImplementedError(vendor)  # pragma: no cover - treu runs on these two


def _pg_array(values: list) -> list | str:
    """A column of values for `unnest(%s::type[])`: ints and aware datetimes as the array's
    text ('{1,2,NULL}'), which psycopg would otherwise build in Python element by element
    (~3 µs each); any other column as the list, for psycopg to adapt."""
    items = []
    for value in values:
        kind = type(value)
        if kind is int:
            items.append(str(value))
        elif kind is datetime and value.tzinfo is not None:
            items.append(value.isoformat())  # digits, '-', ':', '.', 'T', '+': no quoting
        elif value is None:
            items.append("NULL")
        else:
            return values
    return "{" + ",".join(items) + "}"


def _doubled(values: Sequence, twice: list[bool]) -> list:
    doubled = []
    for value, double in zip(values, twice, strict=True):
        doubled += [value, value] if double else [value]
    return doubled


def _adapter(field: models.Field, vendor: str):
    """How a Python value of `field` becomes what `insert_rows` sends, or None if unchanged.

    Only the types whose stored form differs from the Python value need work: JSON is text
    to both databases (PostgreSQL parses it into jsonb), and SQLite keeps datetimes as UTC
    text exactly as Django writes them. Anything unusual (a naive datetime, an expression)
    goes through the field's own `get_db_prep_save`, so the result is what `save()` stores.
    """
    internal = field.get_internal_type()
    if internal == "JSONField":
        encoder = field.encoder
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    if internal == "DateTimeField":
        slow = partial(field.get_db_prep_save, connection=connection)
        if vendor == "sqlite":
            # The same instants repeat (created_at, paid_at = placed_at): convert each once.
            memo: dict[datetime, str] = {}

            def to_text(value):
                if value is None:
                    return None
                text = memo.get(value)
                if text is None:
                    if type(value) is datetime and value.tzinfo is not None:
                        text = str(value.astimezone(UTC).replace(tzinfo=None))
                    else:
                        text = slow(value)
                    memo[value] = text
                return text

            return to_text
        return lambda value: (
            value
            if value is None or (type(value) is datetime and value.tzinfo is not None)
            else slow(value)
        )
    return None


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence],
    *,
    return_ids: bool = True,
    encoded: Collection[str] = (),
) -> list[int]:
    """Insert plain tuples of Python values (one per row, in `fields` order); return the new ids.

    The fast writer for batch ingestion: no model instances, no per-value
    `get_db_prep_save` (see `_adapter`), no SQL compiled per row. `fields` are attnames
    (`order_id`, not `order`) and must include every column without a database default
    (auto_now fields are not filled in: pass the time yourself). Ids are allocated
    first, in input order, so rows that point at each other can be built before writing:
    - PostgreSQL: one `nextval` query for all ids, then `COPY … FROM STDIN`, several
      times faster than INSERT with parameters.
    - SQLite: the ids after the highest one ever used (AUTOINCREMENT never reuses ids),
      read under the write lock the transaction holds (BEGIN IMMEDIATE), then one
      `executemany` of a plain INSERT.
    Values of the `encoded` fields are already in the database's form (JSON text) and
    are written as they are. With `return_ids=False` (nobody needs them) the database
    numbers the rows itself, in input order, and the id query is saved. Must run inside
    `transaction.atomic()`. `save()` and signals are not called.
    """
    if not rows:
        return []
    if return_ids:
        _check_atomic()
    opts = model._meta
    columns = [opts.get_field(name) if name != opts.pk.attname else opts.pk for name in fields]
    adapters = [
        (n, adapt)
        for n, f in enumerate(columns)
        if f.attname not in encoded and (adapt := _adapter(f, connection.vendor)) is not None
    ]
    with connection.cursor() as cursor:
        if return_ids:
            ids = _allocate_ids(cursor, opts.db_table, opts.pk.column, len(rows))
            prepared = [[pk_value, *row] for pk_value, row in zip(ids, rows, strict=True)]
            columns = [opts.pk, *columns]
            adapters = [(n + 1, adapt) for n, adapt in adapters]
        else:
            ids = []
            prepared = [[*row] for row in rows]
        for index, adapt in adapters:
            for values in prepared:
                values[index] = adapt(values[index])
        _write(cursor, model, columns, prepared)
    return ids


def _allocate_ids(cursor, table: str, pk: str, n: int) -> list[int]:
    """`n` new ids for `table`, ascending; see `insert_rows`."""
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk, n],
        )
        return sorted(row[0] for row in cursor.fetchall())
    if connection.vendor == "sqlite":
        cursor.execute(
            f"SELECT max(coalesce(max({qn(pk)}), 0), coalesce(("  # noqa: S608 - model names
            "SELECT seq FROM sqlite_sequence WHERE name = %s), 0)) "
            f"FROM {qn(table)}",
            [table],
        )
        first = cursor.fetchone()[0] + 1
        return list(range(first, first + n))
    raise NotImplementedError(connection.vendor)  # pragma: no cover - treu runs on these two


def from_rows(
    model: type[M], fields: Sequence[str], rows: Sequence[Sequence], ids: Sequence[int]
) -> list[M]:
    """Model instances for rows written by `insert_rows`, as if just loaded from the database.

    Fields not in `fields` are left deferred (loaded on access). The instances are built
    by filling their `__dict__` (what `Model.__init__` ends up with), because `__init__`
    costs several microseconds per field, mostly in the foreign-key descriptors' checks,
    which is most of the time a batch spends on its results; `__init__` is used when
    someone listens to the model's `pre_init`/`post_init` signals, which it sends.
    """
    opts = model._meta
    where = {name: n for n, name in enumerate(fields)}
    alias = connection.alias
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        order = [where.get(f.attname) for f in opts.concrete_fields]
        pk_index = [f.attname for f in opts.concrete_fields].index(opts.pk.attname)
        objs = []
        for pk_value, row in zip(ids, rows, strict=True):
            values = [models.DEFERRED if n is None else row[n] for n in order]
            values[pk_index] = pk_value
            obj = model(*values)
            obj._state.adding = False
            obj._state.db = alias
            objs.append(obj)
        return objs
    names = [f.attname for f in opts.concrete_fields if f.attname in where]
    positions = [where[name] for name in names]
    pk_name = opts.pk.attname
    new = object.__new__
    objs = []
    for pk_value, row in zip(ids, rows, strict=True):
        obj = new(model)
        state = ModelState()
        state.adding = False
        state.db = alias
        values = obj.__dict__
        values["_state"] = state
        for name, n in zip(names, positions, strict=True):
            values[name] = row[n]
        values[pk_name] = pk_value
        objs.append(obj)
    return objs
