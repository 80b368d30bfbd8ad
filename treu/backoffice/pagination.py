"""One way to paginate every back-office list: 50 rows, the query string kept by the template."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

PER_PAGE = 50


def paginate(request, items, *, per_page: int = PER_PAGE) -> Page:
    # get_page() turns a missing, non-numeric or too large page number into a valid page.
    return Paginator(items, per_page).get_page(request.GET.get("page"))
