from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from treu.backoffice.access import staff_view
from treu.commerce.models import Order


@staff_view("commerce.view_order")
def order_list(request):
    orders = Order.objects.select_related("customer", "shop")[:50]
    return render(request, "commerce/order_list.html", {"orders": orders})


@staff_view("commerce.view_order")
def order_detail(request, order_id: int):
    order = get_object_or_404(Order.objects.select_related("customer", "shop"), pk=order_id)
    return render(request, "commerce/order_detail.html", {"order": order})
