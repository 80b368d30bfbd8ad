"""CSV tables of the recommendations, in the format of analytics' other exports."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _

from treu.analytics.export import _number, rows_as_csv
from treu.analytics.recommendations import selectors as reco

__all__ = ["best_seller_table", "related_table", "reorder_table", "rows_as_csv"]


def related_table() -> tuple[list[str], Iterator[list[str]]]:
    header = [
        _("SKU"), _("Product"), _("Rank"), _("Related SKU"), _("Related product"), _("Score"),
        _("Customers who bought both"),
    ]  # fmt: skip
    rows = (
        [r.product.sku, r.product.name, str(r.rank), r.related.sku, r.related.name,
         _number(r.score, 4), str(r.support)]
        for r in reco.all_related_products().iterator(chunk_size=2000)
    )  # fmt: skip
    return header, rows


def reorder_table() -> tuple[list[str], Iterator[list[str]]]:
    header = [
        _("SKU"), _("Product"), _("Based on"), _("Observed reorders"),
        _("Reorders of this product"), _("Median days between purchases"),
        _("Days per unit (median)"), _("Days per unit, lower quartile"),
        _("Days per unit, upper quartile"),
    ]  # fmt: skip
    rows = (
        [r.product.sku, r.product.name, r.get_basis_display(), str(r.observations),
         str(r.own_observations), _number(r.median_interval_days),
         _number(r.days_per_unit), _number(r.days_per_unit_p25), _number(r.days_per_unit_p75)]
        for r in reco.reorder_intervals().iterator(chunk_size=2000)
    )  # fmt: skip
    return header, rows


def best_seller_table() -> tuple[list[str], Iterator[list[str]]]:
    header = [_("Rank"), _("SKU"), _("Product"), _("Orders"), _("Units")]
    rows = (
        [str(b.rank), b.product.sku, b.product.name, str(b.orders), str(b.units)]
        for b in reco.best_sellers()
    )
    return header, rows
