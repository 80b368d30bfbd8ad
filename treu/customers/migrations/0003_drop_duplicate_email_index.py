"""PostgreSQL already has a prefix index on the email: the one Django adds for every unique
varchar (`..._like`, varchar_pattern_ops), so 0002's `customer_email_prefix` was a second
copy that every insert and every update of the order figures had to maintain. SQLite keeps
its NOCASE index, which nothing else provides.
"""

from django.db import migrations

NAME = "customer_email_prefix"


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON customers_customer (email varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_search_indexes")]

    operations = [migrations.RunPython(drop, restore)]
