from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from treu.commerce.models import Order
from treu.imports import services
from treu.imports.models import ImportJob, ImportRowError

from .conftest import FILES

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(store, fixture_file):
    return services.start_import(
        services.create_import_job(path=fixture_file("treu_orders_errors.csv"), shop=store)
    )


def _pages(job):
    return [
        ("get", reverse("imports:list")),
        ("get", reverse("imports:new")),
        ("get", reverse("imports:detail", args=[job.pk])),
        ("post", reverse("imports:import_for_real", args=[job.pk])),
    ]


def test_anonymous_visitors_are_sent_to_the_login(client, job):
    for method, url in _pages(job):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.parametrize("who", ["outsider", "marketer", "agent", "cashier"])
def test_only_the_owner_may_import(client_of, job, who, request):
    client = client_of(request.getfixturevalue(who))
    for method, url in _pages(job):
        assert getattr(client, method)(url).status_code == 403, url


def test_the_owner_sees_the_pages_and_the_nav_item(client_of, owner, job):
    client = client_of(owner)
    for url in (reverse("imports:list"), reverse("imports:new")):
        assert client.get(url).status_code == 200
    page = client.get(reverse("imports:list")).content.decode()
    assert reverse("imports:list") in page and "treu_orders_errors.csv" in page


def test_uploading_runs_a_dry_run_and_shows_counts_and_errors(client_of, owner, store):
    client = client_of(owner)
    data = (FILES / "treu_orders_errors.csv").read_bytes()
    response = client.post(
        reverse("imports:new"),
        {
            "file": SimpleUploadedFile("fehler.csv", data),
            "format": "auto",
            "shop": store.pk,
            "dry_run": "on",
        },
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "imports:detail", args=[job.pk]
    )
    assert job.dry_run and job.status == "done" and not Order.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page and 'http-equiv="refresh"' not in page
    assert reverse("imports:import_for_real", args=[job.pk]) in page
    assert "USD" in page  # the reason of line 7


def test_the_upload_form_starts_as_a_dry_run(client_of, owner, store):
    page = client_of(owner).get(reverse("imports:new")).content.decode()
    assert 'name="dry_run"' in page and "checked" in page
    assert 'enctype="multipart/form-data"' in page


def test_an_unreadable_file_is_refused_on_the_form(client_of, owner, store):
    response = client_of(owner).post(
        reverse("imports:new"),
        {"file": SimpleUploadedFile("x.csv", b"Kundennr;Betrag\n1;2\n"), "shop": store.pk,
         "format": "auto"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Kundennr" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_running_import_refreshes_itself(client_of, owner, store, fixture_file):
    job = services.create_import_job(path=fixture_file("treu_orders.csv"), shop=store)
    page = client_of(owner).get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page


def test_import_for_real_after_a_dry_run(client_of, owner, store, fixture_file):
    client = client_of(owner)
    dry = services.start_import(
        services.create_import_job(path=fixture_file("treu_orders.csv"), shop=store)
    )
    response = client.post(reverse("imports:import_for_real", args=[dry.pk]))
    real = ImportJob.objects.exclude(pk=dry.pk).get()
    assert response["Location"] == reverse("imports:detail", args=[real.pk])
    assert Order.objects.count() == 3
    page = client.get(reverse("imports:detail", args=[dry.pk])).content.decode()
    assert reverse("imports:detail", args=[real.pk]) in page  # no second button
    again = client.post(reverse("imports:import_for_real", args=[real.pk]))
    assert again.status_code == 302 and ImportJob.objects.count() == 2


def test_the_pages_keep_their_query_count(client_of, owner, job, django_assert_max_num_queries):
    ImportRowError.objects.bulk_create(
        ImportRowError(job=job, line=n, column="total", reason="x") for n in range(120)
    )
    client = client_of(owner)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("imports:list")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("imports:detail", args=[job.pk]) + "?page=2").status_code == 200


def test_an_unknown_job_is_404(client_of, owner):
    assert client_of(owner).get(reverse("imports:detail", args=[999])).status_code == 404
