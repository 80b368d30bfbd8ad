from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation
from django.utils.translation import gettext as _

from treu.commerce.models import Order
from treu.imports.models import ImportJob

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    import sys

    real_err, sys.stderr = sys.stderr, err
    try:
        call_command("import_csv", *map(str, args), stdout=out)
    finally:
        sys.stderr = real_err
    return out.getvalue(), err.getvalue()


def test_it_imports_and_summarises(store, fixture_file):
    out, err = run(fixture_file("treu_orders_errors.csv"), "--shop", "online")
    assert Order.objects.count() == 2
    with translation.override(settings.LANGUAGE_CODE):
        expected = _(
            "%(label)s: %(created)s created, %(updated)s updated, "
            "%(unchanged)s unchanged, %(rejected)s refused"
        ) % {"label": _("Orders"), "created": 2, "updated": 0, "unchanged": 0, "rejected": 5}
    assert expected in out
    assert "3 [total]" in out  # line 3, the column, and the reason
    assert "rows" in err or "Zeilen" in err  # the progress line
    job = ImportJob.objects.get()
    assert job.created_by is None and not job.dry_run


def test_a_dry_run_writes_nothing(store, fixture_file):
    out, _err = run(fixture_file("shopify_orders.csv"), "--shop", "online", "--dry-run")
    assert not Order.objects.exists()
    assert ImportJob.objects.get().orders_created == 4


def test_it_leaves_the_commands_file_where_it_is(store, fixture_file):
    path = fixture_file("treu_orders.csv")
    run(path, "--shop", "online", "--format", "treu-orders")
    assert path.exists()


def test_it_shows_only_the_first_50_errors(store, write_file):
    rows = "".join(f"X-{n},gestern,Espresso,1,1,1\n" for n in range(60))
    path = write_file("order_id,order_date,item,quantity,unit_price,total\n" + rows)
    out, _err = run(path, "--shop", "online")
    assert out.count("[order_date]") == 50
    assert "10" in out.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent.csv", "--shop", "online"], "nonexistent"),
        (["{empty}", "--shop", "online"], ""),
        (["{ok}", "--shop", "nirgends"], "online"),
        (["{ok}"], "--shop"),
    ],
)
def test_it_fails_with_a_non_zero_exit_when_it_cannot_read(
    store, write_file, fixture_file, args, message
):
    empty, ok = write_file(b""), fixture_file("treu_orders.csv")
    args = [a.format(empty=empty, ok=ok) for a in args]
    with pytest.raises(CommandError) as failed:
        run(*args)
    assert message in str(failed.value)
    assert not Order.objects.exists()
