"""The recommendations in the back office: the analytics page "Empfehlungen", its CSV
tables, and the panels on the customer's 360° page and on the product page."""

from __future__ import annotations

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.analytics import selectors
from treu.analytics.recommendations import export
from treu.analytics.recommendations import selectors as reco
from treu.backoffice.access import staff_view
from treu.backoffice.pagination import paginate

VIEW = "analytics.view_analytics"


def _picked_product(request, choices) -> int | None:
    value = request.GET.get("product", "")
    if value.isdigit() and int(value) in {p.pk for p in choices}:
        return int(value)
    return choices[0].pk if choices else None


@staff_view(VIEW)
def recommendations(request):
    choices = list(reco.products_with_related())
    picked = _picked_product(request, choices)
    context = {
        "choices": choices,
        "picked": picked,
        "related": reco.related_products(picked) if picked else [],
        "best_sellers": list(reco.best_sellers()),
        "page": paginate(request, reco.reorder_intervals()),
        "runs": selectors.run_state(),
    }
    return render(request, "analytics/recommendations.html", context)


@staff_view(VIEW)
def export_csv(request, table: str):
    tables = {
        "related": export.related_table,
        "reorder": export.reorder_table,
        "bestsellers": export.best_seller_table,
    }
    if table not in tables:
        raise Http404(_("This table does not exist."))
    header, rows = tables[table]()
    response = StreamingHttpResponse(
        export.rows_as_csv(header, rows), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="treu-{table}-{stamp}.csv"'
    return response


# -- Panels on other apps' pages (registered in analytics' AppConfig.ready) -------------------


def customer_panel(request, customer) -> dict | None:
    """Next products and expected run-outs on the customer's 360° page."""
    if customer.erased_at:
        return None
    today = timezone.localdate()
    rows = reco.expected_runouts(customer)
    runouts = [(r, r.days_left(today), -r.days_left(today)) for r in rows]
    return {
        "customer": customer,
        "recommendations": reco.recommendations_for(customer, limit=3),
        "runouts": runouts,
    }


def product_panel(request, product) -> dict | None:
    """ "Kunden, die X kauften, kauften auch …" and the reorder interval on the product page."""
    return {
        "product": product,
        "related": reco.related_products(product.pk),
        "reorder": reco.reorder_interval(product.pk),
    }
