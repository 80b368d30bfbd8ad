"""Bulk writes that need the new rows' ids (order lines point at their orders)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)
_PLAIN = {
    "CharField": str, "TextField": str, "SlugField": str, "IntegerField": int,
    "BigIntegerField": int, "PositiveIntegerField": int, "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int, "SmallIntegerField": int, "ForeignKey": int,
}  # fmt: skip


def bulk_create_with_ids(model: type[M], objs: Sequence[M]) -> list[M]:
    """`bulk_create` that is cheaper per row and always leaves each object with its id.

    Writes one INSERT … RETURNING id per 1,000 rows (fewer on SQLite when its variable
    limit demands). Django's bulk_create spends most of its time compiling the SQL per
    value and splits SQLite statements at 999 values; here the values are prepared
    exactly as Django prepares them for saving (`pre_save`, so auto_now_add applies, then
    `get_db_prep_save`) and the statement text is built once per chunk. Like bulk_create,
    `save()` and signals are not called. Assumes an auto-incrementing primary key. SQLite
    before 3.35 cannot return ids, so there each row is saved on its own.
    """
    objs = list(objs)
    if not objs:
        return []
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite") or not (
        connection.features.can_return_rows_from_bulk_insert
    ):  # pragma: no cover - other databases and SQLite < 3.35
        for obj in objs:
            models.Model.save_base(obj, force_insert=True, raw=False)
        return objs
    opts = model._meta
    fields = [f for f in opts.local_concrete_fields if f is not opts.pk]
    relations = [f for f in fields if f.is_relation]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    row_sql = f"({', '.join(['%s'] * len(fields))})"
    unnest = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    # Plain str and int values pass unchanged through get_db_prep_save of text and integer
    # fields; skipping the call for them halves the cost per row.
    prepared = [(f, _PLAIN.get(f.get_internal_type())) for f in fields]
    per_statement = 1000
    if vendor == "sqlite":
        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per_statement = max(1, min(per_statement, limit // len(fields)))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params = []
            for obj in chunk:
                for field in relations:  # a related object saved since it was assigned
                    if getattr(obj, field.attname) is None and field.is_cached(obj):
                        related = field.get_cached_value(obj)
                        if related is not None:
                            setattr(obj, field.attname, related.pk)
                for field, plain in prepared:
                    value = field.pre_save(obj, True)
                    if value is None or type(value) is not plain:
                        value = field.get_db_prep_save(value, connection)
                    params.append(value)
            if vendor == "postgresql":
                # One array per column instead of a placeholder per value: psycopg's
                # client-side binding parses the statement text per placeholder.
                width = len(fields)
                arrays = [params[n::width] for n in range(width)]
                cursor.execute(
                    f"INSERT INTO {qn(opts.db_table)} ({columns}) "  # noqa: S608 - model names
                    f"SELECT * FROM UNNEST({unnest}) RETURNING {qn(opts.pk.column)}",
                    arrays,
                )
            else:
                cursor.execute(
                    f"INSERT INTO {qn(opts.db_table)} ({columns}) "  # noqa: S608 - model names
                    f"VALUES {', '.join([row_sql] * len(chunk))} RETURNING {qn(opts.pk.column)}",
                    params,
                )
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias
    return objs


def update_rows(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]
) -> int:
    """Write `fields` of many existing rows with one UPDATE … FROM (VALUES …) per 1,000 rows.

    Does what `bulk_update` does, but without its CASE WHEN per row and field, which costs
    Django about a millisecond per row to build. PostgreSQL and SQLite >= 3.33 know
    UPDATE … FROM; older SQLite falls back to `bulk_update`. Like bulk_update, `save()`,
    signals and auto_now are not applied: set such values on the objects yourself.
    """
    if not objs:
        return 0
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite") or (
        vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 33)
    ):  # pragma: no cover - other databases and old SQLite
        return model._base_manager.bulk_update(objs, fields)
    opts = model._meta
    columns = [opts.pk, *(opts.get_field(name) for name in fields)]
    qn = connection.ops.quote_name
    if vendor == "postgresql":  # VALUES needs types where a column holds only NULLs
        placeholders = [f"%s::{field.cast_db_type(connection)}" for field in columns]
    else:
        placeholders = ["%s"] * len(columns)
    row_sql = f"({', '.join(placeholders)})"
    table = qn(opts.db_table)
    assignments = ", ".join(
        f"{qn(field.column)} = v.column{n}" for n, field in enumerate(columns[1:], start=2)
    )
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), 1000):
            chunk = objs[start : start + 1000]
            params = [
                field.get_db_prep_save(getattr(obj, field.attname), connection)
                for obj in chunk
                for field in columns
            ]
            sql = (
                f"UPDATE {table} SET {assignments} "  # noqa: S608 - names from the model
                f"FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v "
                f"WHERE {table}.{qn(opts.pk.column)} = v.column1"
            )
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated
