"""Indexes that make the customer search's prefix matching (`LIKE 'mül%'`) use an index.

Each database needs its own kind: SQLite only uses an index for LIKE when it
is built with NOCASE collation; PostgreSQL only with varchar_pattern_ops.
The search keys are folded to lower-case ASCII, so both give the same answers.
"""

from django.db import migrations

COLUMNS = {
    "customer_search_fl": "search_first_last",
    "customer_search_lf": "search_last_first",
    "customer_email_prefix": "email",
}
TABLE = "customers_customer"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name, column in COLUMNS.items():
        if vendor == "sqlite":
            schema_editor.execute(f"CREATE INDEX {name} ON {TABLE} ({column} COLLATE NOCASE)")
        elif vendor == "postgresql":
            schema_editor.execute(f"CREATE INDEX {name} ON {TABLE} ({column} varchar_pattern_ops)")


def drop(apps, schema_editor):
    for name in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
