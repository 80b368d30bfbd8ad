"""`lines_bought`: what messaging's "bought product / category" rules read."""

from __future__ import annotations

import pytest
from django.db.models import Exists, OuterRef

from treu.commerce import selectors
from treu.commerce.services import cancel_order
from treu.commerce.tests.factories import CategoryFactory, ProductFactory, make_order
from treu.customers.models import Customer
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_lines_bought_count_live_orders_by_product_or_category():
    beans = CategoryFactory(name="Bohnen", slug="bohnen")
    tools = CategoryFactory(name="Zubehör", slug="zubehoer")
    espresso = ProductFactory(sku="T-1", category=beans)
    ProductFactory(sku="T-2", category=tools)
    anna, ben = CustomerFactory(), CustomerFactory()
    make_order(customer=anna, lines=((1, 1490, 700),))  # line 1 carries SKU T-1
    cancelled = make_order(customer=ben, lines=((1, 1490, 700),))
    cancel_order(cancelled)

    assert selectors.lines_bought(customer=anna.pk, product_ids=[espresso.pk]).count() == 1
    assert selectors.lines_bought(customer=anna.pk, category_ids=[beans.pk]).count() == 1
    assert not selectors.lines_bought(customer=anna.pk, category_ids=[tools.pk]).exists()
    assert not selectors.lines_bought(customer=ben.pk, product_ids=[espresso.pk]).exists()
    buyers = Customer.objects.filter(
        Exists(selectors.lines_bought(customer=OuterRef("pk"), product_ids=[espresso.pk]))
    )
    assert list(buyers) == [anna]
