from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from treu.customers.models import Customer
from treu.demo.fingerprint import fingerprint
from treu.demo.progress import Progress

pytestmark = pytest.mark.django_db

ARGS = ("--customers=60", "--until=2025-06-30")


@pytest.fixture(autouse=True)
def _debug_on(settings):
    settings.DEBUG = True  # as `make demo` runs it


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_refuses_to_fill_what_looks_like_a_real_installation(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        run(*ARGS)
    assert not Customer.objects.exists()
    run(*ARGS, "--not-production")
    assert Customer.objects.count() == 60


def test_demo_builds_the_shop_and_prints_the_logins():
    output = run(*ARGS)
    assert Customer.objects.count() == 60
    assert "inhaberin" in output and "treu-demo" in output and "/login/" in output


def test_if_empty_leaves_an_existing_shop_alone():
    run(*ARGS, "--if-empty")
    before = fingerprint()
    output = run("--customers=80", "--until=2025-06-30", "--if-empty")
    assert fingerprint() == before
    assert "keeping them" in output


def test_reset_rebuilds_the_same_shop():
    run(*ARGS)
    before = fingerprint()
    run(*ARGS, "--reset")
    assert fingerprint() == before


def test_it_refuses_to_build_over_existing_customers_without_a_flag():
    run(*ARGS)
    with pytest.raises(CommandError, match="--reset"):
        run(*ARGS)


def test_it_refuses_a_date_it_cannot_read():
    with pytest.raises(CommandError, match="not a date"):
        run("--until=30.06.2025")


def test_demo_logins_prints_a_table_of_all_roles():
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["Login", "Password", "Role"]
    assert [line.split()[0] for line in lines[2:]] == ["inhaberin", "marketing", "support", "kasse"]


def test_progress_writes_only_a_final_line_when_not_on_a_terminal():
    stream = io.StringIO()
    progress = Progress(100, label="Demo", stream=stream)
    progress.update(50)
    progress.finish()
    assert stream.getvalue().count("\n") == 1
    assert "100/100" in stream.getvalue()
