from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from treu.backoffice.access import staff_view
from treu.customers import selectors
from treu.customers.models import Customer


@staff_view("customers.view_customer")
def customer_list(request):
    customers = selectors.customer_list(selectors.CustomerFilters(query=request.GET.get("q", "")))[
        :50
    ]
    return render(request, "customers/customer_list.html", {"customers": customers})


@staff_view("customers.view_customer")
def customer_detail(request, customer_id: int):
    customer = get_object_or_404(Customer, pk=customer_id)
    timeline = selectors.customer_timeline(customer)
    return render(
        request, "customers/customer_detail.html", {"customer": customer, "timeline": timeline}
    )
