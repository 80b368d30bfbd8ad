from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.backoffice.pagination import paginate
from treu.commerce import selectors, services
from treu.commerce.forms import OrderFilterForm, ProductFilterForm, ReturnForm
from treu.commerce.models import Order, Product
from treu.core import panels
from treu.core.money import format_euro


@staff_view("commerce.view_order")
def order_list(request):
    form = OrderFilterForm(request.GET)
    page = paginate(request, selectors.order_list(form.filters()))
    return render(request, "commerce/order_list.html", {"form": form, "page": page})


def _order_or_404(order_id: int) -> Order:
    try:
        return selectors.order_detail(order_id)
    except Order.DoesNotExist:
        raise Http404 from None


@staff_view("commerce.view_order")
def order_detail(request, order_id: int):
    order = _order_or_404(order_id)
    return render(request, "commerce/order_detail.html", _detail_context(request, order))


def _detail_context(request, order: Order, return_form: ReturnForm | None = None) -> dict:
    if return_form is None and request.user.has_perm("commerce.add_return"):
        return_form = ReturnForm(order=order)
    return {"order": order, "return_form": return_form}


@staff_view("commerce.add_return")  # first: strangers see the login, not a 405
@require_POST
def order_return(request, order_id: int):
    order = _order_or_404(order_id)
    form = ReturnForm(request.POST, order=order)
    if form.is_valid():
        try:
            record = services.record_return(
                order,
                lines=form.return_lines(),
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
                shipping_refund_cents=form.cleaned_data["shipping_refund"],
                source="backoffice",
            )
        except services.OrderRejected as error:
            add_service_errors(form, error, field_map=form.service_field_map())
        else:
            amount = format_euro(record.amount_cents)
            messages.success(
                request, _("Return recorded: %(amount)s refunded.") % {"amount": amount}
            )
            return redirect("commerce:order_detail", order_id=order.pk)
    context = _detail_context(request, order, form)
    return render(request, "commerce/order_detail.html", context, status=400)


@staff_view("commerce.view_product")
def product_list(request):
    form = ProductFilterForm(request.GET)
    page = paginate(request, selectors.product_list(**form.filters()))
    sold = selectors.units_sold([p.pk for p in page.object_list])
    rows = [(p, sold.get(p.pk, 0)) for p in page.object_list]
    return render(request, "commerce/product_list.html", {"form": form, "page": page, "rows": rows})


@staff_view("commerce.view_product")
def product_detail(request, product_id: int):
    product = get_object_or_404(Product.objects.select_related("category"), pk=product_id)
    context = {
        "product": product,
        "sales": selectors.product_sales(product),
        "orders": selectors.recent_product_orders(product)
        if request.user.has_perm("commerce.view_order")
        else None,
        "panels": panels.render("product", request, product),
    }
    return render(request, "commerce/product_detail.html", context)
