from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from treu.commerce.models import Order, OrderStatus
from treu.core.models import DomainEvent
from treu.customers.models import Customer
from treu.imports import services
from treu.imports.models import ImportJob, JobStatus

pytestmark = pytest.mark.django_db


def counts(job: ImportJob) -> dict:
    return {"customers": job.counts("customers"), "orders": job.counts("orders")}


def errors_of(job: ImportJob) -> list[tuple[int, str]]:
    return [(e.line, e.column) for e in job.row_errors.all()]


def test_it_imports_a_shopify_order_export(run_file, fixture_file):
    job = run_file(fixture_file("shopify_orders.csv"))
    assert job.status == JobStatus.DONE, job.failure_reason
    assert job.detected_format == "shopify-orders"
    assert job.counts("orders") == {"created": 4, "updated": 0, "unchanged": 0, "rejected": 0}
    # Anna appears twice (#1001, #1004, different spelling of the email): one customer.
    assert job.counts("customers")["created"] == 3
    first = Order.objects.get(number="#1001")
    assert first.external_id == "5601234567001"
    assert first.total_cents == 5520 and first.shipping_cents == 490 and first.tax_cents == 442
    assert first.status == OrderStatus.SHIPPED
    lines = [(ln.quantity, ln.unit_price_cents, ln.tax_rate_bp) for ln in first.lines.all()]
    assert lines == [(2, 1490, 700), (1, 850, 700), (1, 1200, 700)]
    assert first.placed_at.isoformat() == "2024-03-01T13:22:05+00:00"
    anna = Customer.objects.get(email="anna.mueller@example.de")
    assert (anna.first_name, anna.last_name, anna.phone) == ("Anna", "Müller", "+49 221 123456")
    assert anna.order_count == 2 and first.customer == anna
    discounted = Order.objects.get(number="#1002")
    assert (discounted.discount_cents, discounted.total_cents) == (0, 1831)
    assert discounted.lines.get().discount_cents == 149
    assert Order.objects.get(number="#1003").status == OrderStatus.CANCELLED


def test_it_imports_a_woocommerce_order_export(run_file, fixture_file, store):
    job = run_file(fixture_file("woocommerce_orders.csv"))
    assert job.detected_format == "woocommerce-orders"
    assert job.counts("orders") == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    order = Order.objects.get(external_id="2301")
    assert order.total_cents == 4470 and order.shipping_cents == 490
    lines = list(order.lines.all())
    assert [(ln.quantity, ln.unit_price_cents, ln.tax_rate_bp, ln.tax_cents) for ln in lines] == [
        (2, 1490, 700, 195), (1, 1000, 1900, 160)
    ]  # fmt: skip
    assert lines[0].external_id == "901"
    assert order.status == OrderStatus.SHIPPED
    marie = order.customer
    assert marie.external_ids.get().external_id == "15"
    coupon = Order.objects.get(external_id="2302")
    assert (
        coupon.lines.get().discount_cents == 149
        and coupon.customer.email == "gast.kunde@example.de"
    )
    assert Order.objects.get(external_id="2303").status == OrderStatus.CANCELLED
    assert job.counts("customers")["created"] == 2


def test_it_imports_the_treu_format_with_shops_per_row(run_file, fixture_file, store):
    job = run_file(fixture_file("treu_orders.csv"))
    assert job.counts("orders")["created"] == 3, list(job.row_errors.values_list("reason"))
    two_lines = Order.objects.get(external_id="A-100")
    assert two_lines.shop == store and two_lines.lines.count() == 2
    assert [ln.tax_rate_bp for ln in two_lines.lines.all()] == [700, 1900]
    in_store = Order.objects.get(external_id="A-101")
    assert in_store.shop.code == "laden" and in_store.status == OrderStatus.SHIPPED
    assert in_store.discount_cents == 250 and in_store.total_cents == 2200
    paul = Customer.objects.get(email="paul.becker@example.de")
    assert in_store.customer == two_lines.customer == paul
    assert Order.objects.get(external_id="A-102").customer is None  # a guest at the till


def test_it_reads_a_german_excel_file(run_file, fixture_file):
    job = run_file(fixture_file("treu_orders_excel.csv"))
    assert (job.encoding, job.delimiter) == ("cp1252", ";")
    assert job.counts("orders")["created"] == 2
    order = Order.objects.get(external_id="B-200")
    assert order.total_cents == 123456
    assert order.lines.get().title == "Röstkaffee „Äthiopien“ 1 kg"
    assert Customer.objects.get(email="sophie.krueger@example.de").last_name == "Krüger"


def test_it_imports_shopify_customers_with_their_address(run_file, fixture_file):
    job = run_file(fixture_file("shopify_customers.csv"))
    assert job.counts("customers") == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 1}
    juergen = Customer.objects.get(email="juergen.weiss@example.de")
    address = juergen.addresses.get()
    assert (address.company, address.street, address.address_extra, address.city) == (
        "Büro Weiß GmbH", "Hauptstraße 12", "2. OG", "München"
    )  # fmt: skip
    assert juergen.external_ids.get().external_id == "7001234567002"
    assert not Customer.objects.get(email="lena.oezdemir@example.de").addresses.exists()
    assert errors_of(job) == [(5, "Email")]


def test_it_imports_treu_customers(run_file, fixture_file):
    job = run_file(fixture_file("treu_customers.csv"))
    assert job.encoding == "utf-8-sig" and job.delimiter == ";"
    assert job.counts("customers") == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    claudia = Customer.objects.get(email="claudia.fischer@example.de")
    assert claudia.birthday.isoformat() == "1980-05-17" and claudia.addresses.get().city == "Berlin"
    assert Customer.objects.get(email="tom.wagner@example.de").language == "en"
    assert errors_of(job) == [(4, "email")]


def test_a_dry_run_writes_nothing_and_sends_no_events(
    run_file, fixture_file, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        job = run_file(fixture_file("shopify_orders.csv"), dry_run=True)
    assert job.status == JobStatus.DONE
    assert job.counts("orders")["created"] == 4 and job.counts("customers")["created"] == 3
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert not DomainEvent.objects.exists()
    assert callbacks == []


def test_a_dry_run_still_lists_its_errors(run_file, fixture_file):
    job = run_file(fixture_file("treu_orders_errors.csv"), dry_run=True)
    assert job.orders_rejected == 5 and job.orders_created == 2
    assert job.row_errors.count() >= 5
    assert not Order.objects.exists()


def test_failing_rows_are_reported_with_line_and_reason_and_the_rest_imports(
    run_file, fixture_file
):
    job = run_file(fixture_file("treu_orders_errors.csv"))
    assert job.counts("orders") == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 5}
    assert set(Order.objects.values_list("external_id", flat=True)) == {"C-1", "C-7"}
    found = {(e.line, e.column): e.reason for e in job.row_errors.all()}
    assert "12" in found[(3, "total")] and "10" in found[(3, "total")]  # totals do not add up
    assert (5, "item") in found  # C-3: the negative quantity on the order's second row
    assert (6, "order_date") in found  # C-4: in the future
    assert "USD" in found[(7, "currency")]
    assert {(8, "order_date"), (8, "unit_price")} <= set(found)  # "gestern", "zehn"
    # Nothing of a refused order was written, not even a part of it.
    assert not Order.objects.filter(external_id__in=["C-2", "C-3", "C-4", "C-5", "C-6"]).exists()
    # No reason repeats the row's personal data.
    assert not any("@" in reason for reason in found.values())


def test_rows_of_the_wrong_width_reject_their_whole_order(run_file, write_file):
    path = write_file(
        "order_id,order_date,item,quantity,unit_price,total\n"
        "D-1,2024-01-05,Espresso,1,10.00,15.00\n"
        "D-1;Tasse;1;5.00\n"
        "D-2,2024-01-05,Espresso,1,10.00,10.00\n"
    )
    job = run_file(path)
    assert (job.orders_created, job.orders_rejected) == (1, 1)
    assert errors_of(job) == [(3, "")]
    assert not Order.objects.filter(external_id="D-1").exists()


@pytest.mark.parametrize(
    "name",
    ["shopify_orders.csv", "woocommerce_orders.csv", "treu_orders.csv", "shopify_customers.csv",
     "treu_customers.csv", "treu_orders_errors.csv"],
)  # fmt: skip
def test_importing_the_same_file_again_changes_nothing(run_file, fixture_file, name):
    first = run_file(fixture_file(name))
    assert first.customers_created + first.orders_created > 0
    before = (Order.objects.count(), Customer.objects.count(), DomainEvent.objects.count())
    again = run_file(fixture_file(name))
    assert again.customers_created == again.customers_updated == 0
    assert again.orders_created == again.orders_updated == 0
    assert again.orders_unchanged == first.orders_created
    assert (Order.objects.count(), Customer.objects.count(), DomainEvent.objects.count()) == before


def test_a_changed_order_is_updated(run_file, write_file):
    header = "order_id,order_date,item,quantity,unit_price,total,status\n"
    run_file(write_file(header + "E-1,2024-01-05,Espresso,1,10.00,10.00,paid\n"))
    job = run_file(write_file(header + "E-1,2024-01-05,Espresso,1,10.00,10.00,storniert\n"))
    assert (job.orders_updated, job.orders_created) == (1, 0)
    assert Order.objects.get(external_id="E-1").status == OrderStatus.CANCELLED


def test_a_file_that_cannot_be_read_is_refused_and_not_kept(store, settings):
    upload = SimpleUploadedFile("leer.csv", b"order_id,item\n")
    with pytest.raises(services.ImportRefused):
        services.create_import_job(upload=upload, shop=store)
    assert not ImportJob.objects.exists()
    assert list(services.import_dir().iterdir()) == []


def test_uploads_are_stored_on_disk_under_var_dir(store, settings):
    data = (Path(__file__).parent / "files" / "treu_orders.csv").read_bytes()
    job = services.create_import_job(
        upload=SimpleUploadedFile("bestellungen.csv", data), shop=store
    )
    stored = Path(job.stored_path)
    assert stored.parent == Path(settings.VAR_DIR) / "imports"
    assert stored.read_bytes() == data
    assert job.original_filename == "bestellungen.csv" and job.dry_run


def test_large_files_run_in_the_worker_and_a_done_job_is_not_run_again(
    store, fixture_file, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 10)
    job = services.create_import_job(
        path=fixture_file("treu_orders.csv"), shop=store, dry_run=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.start_import(job)  # huey runs tasks inline in tests
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.orders_created == 3
    from treu.imports.tasks import run_import_task

    run_import_task(job.pk)
    job.refresh_from_db()
    assert job.orders_created == 3 and job.orders_unchanged == 0


def test_import_for_real_repeats_a_dry_run_and_then_drops_the_upload(store, fixture_file):
    upload = SimpleUploadedFile("orders.csv", fixture_file("treu_orders.csv").read_bytes())
    dry = services.start_import(services.create_import_job(upload=upload, shop=store))
    assert dry.dry_run and dry.status == JobStatus.DONE and not Order.objects.exists()
    real = services.start_import(services.import_for_real(dry))
    assert not real.dry_run and real.source_job == dry and real.orders_created == 3
    assert not Path(real.stored_path).exists()
    with pytest.raises(services.ImportRefused):
        services.import_for_real(real)


def test_a_file_the_importer_cannot_finish_fails_with_a_reason(store, write_file):
    path = write_file("order_id,order_date,item,quantity,unit_price,total\nA,2024-01-05,x,1,1,1\n")
    job = services.create_import_job(path=path, shop=store)
    path.write_bytes(b"")  # gone bad between upload and run
    job = services.run_import(job.pk)
    assert job.status == JobStatus.FAILED and job.failure_reason


def test_old_uploads_are_purged(store, fixture_file):
    from datetime import timedelta

    from django.utils import timezone

    upload = SimpleUploadedFile("orders.csv", fixture_file("treu_orders.csv").read_bytes())
    job = services.start_import(services.create_import_job(upload=upload, shop=store))
    assert services.purge_files() == 0
    assert services.purge_files(now=timezone.now() + timedelta(days=8)) == 1
    assert not Path(job.stored_path).exists()
