"""When a birthday was entered: loyalty rewards no birthday entered less than 30 days ahead,
so every way a birthday reaches treu records the moment it was set or changed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures
from treu.core import privacy
from treu.customers import services
from treu.customers.models import Customer
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _entered(customer: Customer):
    return Customer.objects.values_list("birthday_entered_at", flat=True).get(pk=customer.pk)


def _recent(moment) -> bool:
    return moment is not None and timezone.now() - moment < timedelta(minutes=1)


def test_a_new_customer_with_a_birthday_records_when_it_was_entered():
    with_birthday = services.create_customer(first_name="Ida", birthday=date(1990, 5, 17))
    without = services.create_customer(first_name="Ole")
    assert _recent(_entered(with_birthday))
    assert _entered(without) is None


def test_changing_the_birthday_records_the_moment_and_other_changes_keep_it(anna):
    services.update_customer(anna, birthday=date(1990, 5, 17))
    first = _entered(anna)
    assert _recent(first)
    Customer.objects.filter(pk=anna.pk).update(birthday_entered_at=first - timedelta(days=90))
    anna.refresh_from_db()
    services.update_customer(anna, phone="030 1234", birthday=date(1990, 5, 17))  # same day
    assert _entered(anna) == first - timedelta(days=90)
    services.update_customer(anna, birthday=date(1990, 5, 18))
    assert _recent(_entered(anna)) and _entered(anna) > first - timedelta(days=1)


def test_removing_the_birthday_forgets_when_it_was_entered(anna):
    services.update_customer(anna, birthday=date(1990, 5, 17))
    services.update_customer(anna, birthday=None)
    assert _entered(anna) is None


def test_a_refused_update_records_nothing(anna):
    with pytest.raises(services.CustomerError):
        services.update_customer(anna, birthday=date(1990, 5, 17), first_name="x" * 200)
    assert _entered(anna) is None


def test_the_batch_path_records_it_for_new_and_changed_birthdays(anna, shop):
    old = timezone.now() - timedelta(days=400)
    kept = CustomerFactory(email="kept@example.de", birthday=date(1980, 1, 2))
    Customer.objects.filter(pk=kept.pk).update(birthday_entered_at=old)
    results = services.upsert_customers(
        [
            services.CustomerInput(email="neu@example.de", birthday=date(1985, 3, 4)),
            services.CustomerInput(email=anna.email, birthday=date(1990, 5, 17)),
            services.CustomerInput(email="kept@example.de", birthday=date(1980, 1, 2)),
            services.CustomerInput(email="ohne@example.de", first_name="Ohne"),
        ]
    )
    new, changed, same, none = (r.customer for r in results)
    assert _recent(_entered(new)) and _recent(_entered(changed))
    assert _entered(same) == old
    assert _entered(none) is None


def test_the_customer_api_records_it(api, anna):
    response = api.patch(f"/customers/{anna.number}", {"birthday": "1990-05-17"})
    assert response.status_code == 200
    assert _recent(_entered(anna))


def test_a_merge_keeps_when_the_duplicates_birthday_was_entered(anna, agent):
    duplicate = CustomerFactory(email="a.mueller@web.de", birthday=date(1990, 5, 17))
    entered = timezone.now() - timedelta(days=200)
    Customer.objects.filter(pk=duplicate.pk).update(birthday_entered_at=entered)
    duplicate.refresh_from_db()
    services.merge_customers(survivor=anna, duplicate=duplicate, by=agent)
    anna.refresh_from_db()
    assert anna.birthday == date(1990, 5, 17) and anna.birthday_entered_at == entered


def test_it_is_exported_and_erased_with_the_birthday(anna):
    services.update_customer(anna, birthday=date(1990, 5, 17))
    exported = privacy.export_customer(anna)
    assert "birthday_entered_at" in str(exported)
    privacy.erase_customer(anna)
    anna.refresh_from_db()
    assert anna.birthday is None and anna.birthday_entered_at is None
