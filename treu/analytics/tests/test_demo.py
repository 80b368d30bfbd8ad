"""The demo shop: loading it fills the dashboard; resetting it clears the figures first."""

from __future__ import annotations

from datetime import date

import pytest

from treu.analytics.models import (
    CustomerFigures,
    CustomerProduct,
    PeriodFigures,
    ProductReorder,
    RecomputeRun,
    RunTrigger,
)
from treu.commerce.models import Product
from treu.demo.generator import DemoOptions, build_demo, reset_demo

pytestmark = pytest.mark.django_db


def test_loading_the_demo_computes_the_figures_and_a_reset_clears_them():
    build_demo(DemoOptions(customers=60, seed=7, years=2, until=date(2025, 6, 30)))
    run = RecomputeRun.objects.get()
    assert run.trigger == RunTrigger.DEMO and run.status == "done"
    assert run.orders > 60
    assert PeriodFigures.objects.filter(months=12).exists()
    assert CustomerFigures.objects.count() == run.customers > 0
    # The roaster's beans and tea get reorder intervals, its machines and grinders none.
    reorder = set(ProductReorder.objects.values_list("product__sku", flat=True))
    consumables = set(Product.objects.filter(is_consumable=True).values_list("sku", flat=True))
    assert {"E-HAUS-500", "T-EARL", "ABO-MONAT"} <= reorder <= consumables
    assert CustomerProduct.objects.filter(product__is_consumable=False).exists()
    reset_demo()
    assert not CustomerProduct.objects.exists()
    assert not PeriodFigures.objects.exists()
    assert not CustomerFigures.objects.exists()
    assert not RecomputeRun.objects.exists()
