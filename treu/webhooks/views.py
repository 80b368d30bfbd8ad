from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.webhooks import selectors, services
from treu.webhooks.forms import EndpointForm
from treu.webhooks.models import PING, Delivery, Endpoint


def _endpoint_or_404(endpoint_id: int) -> Endpoint:
    try:
        return selectors.endpoint_detail(endpoint_id)
    except Endpoint.DoesNotExist:
        raise Http404 from None


def _delivery_or_404(delivery_id: int) -> Delivery:
    try:
        return selectors.delivery_detail(delivery_id)
    except Delivery.DoesNotExist:
        raise Http404 from None


@staff_view("webhooks.view_endpoint")
def endpoint_list(request):
    context = {
        "endpoints": selectors.endpoint_list(),
        "switched_off": selectors.auto_disabled_endpoints(),
    }
    return render(request, "webhooks/endpoint_list.html", context)


@staff_view("webhooks.add_endpoint")
def endpoint_create(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (endpoint := form.save()):
        messages.success(request, _("Webhook created. Its signing secret is shown below."))
        return redirect("webhooks:detail", endpoint_id=endpoint.pk)
    status = 400 if form.is_bound else 200
    return render(request, "webhooks/endpoint_form.html", {"form": form}, status=status)


@staff_view("webhooks.view_endpoint")
def endpoint_detail(request, endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    context = {
        "endpoint": endpoint,
        "deliveries": selectors.recent_deliveries(endpoint),
        "attempts": selectors.recent_attempts(endpoint),
        "disable_after": services.disable_after(),
    }
    return render(request, "webhooks/endpoint_detail.html", context)


@staff_view("webhooks.change_endpoint")
def endpoint_edit(request, endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    form = EndpointForm(request.POST or None, endpoint=endpoint)
    if request.method == "POST" and form.is_valid() and form.save():
        messages.success(request, _("Webhook saved."))
        return redirect("webhooks:detail", endpoint_id=endpoint.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "endpoint": endpoint}
    return render(request, "webhooks/endpoint_form.html", context, status=status)


@staff_view("webhooks.delete_endpoint")
def endpoint_delete(request, endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if request.method == "POST":
        services.endpoint_delete(endpoint=endpoint)
        messages.success(request, _("Webhook deleted."))
        return redirect("webhooks:list")
    return render(request, "webhooks/endpoint_delete.html", {"endpoint": endpoint})


@staff_view("webhooks.change_endpoint")
@require_POST
def endpoint_rotate_secret(request, endpoint_id: int):
    services.endpoint_rotate_secret(endpoint=_endpoint_or_404(endpoint_id))
    messages.success(
        request,
        _("New signing secret created. The old one is no longer valid: update the receiver."),
    )
    return redirect("webhooks:detail", endpoint_id=endpoint_id)


@staff_view("webhooks.change_endpoint")
@require_POST
def endpoint_enable(request, endpoint_id: int):
    resumed = services.endpoint_enable(endpoint=_endpoint_or_404(endpoint_id))
    messages.success(
        request,
        _("Webhook switched on again; %(count)s waiting deliveries are being sent.")
        % {"count": resumed},
    )
    return redirect("webhooks:detail", endpoint_id=endpoint_id)


@staff_view("webhooks.change_endpoint")
@require_POST
def endpoint_send_test(request, endpoint_id: int):
    services.endpoint_send_test(endpoint=_endpoint_or_404(endpoint_id))
    messages.success(request, _("Test event queued; its result appears below in a moment."))
    return redirect("webhooks:detail", endpoint_id=endpoint_id)


@staff_view("webhooks.view_endpoint")
def delivery_detail(request, delivery_id: int):
    delivery = _delivery_or_404(delivery_id)
    return render(request, "webhooks/delivery_detail.html", {"delivery": delivery})


@staff_view("webhooks.change_endpoint")
@require_POST
def delivery_redeliver(request, delivery_id: int):
    delivery = services.delivery_redeliver(delivery=_delivery_or_404(delivery_id))
    if delivery.endpoint.active or delivery.kind == PING:
        messages.success(request, _("Delivery queued again."))
    else:
        messages.warning(
            request, _("Delivery queued; it is sent once the webhook is switched on again.")
        )
    return redirect("webhooks:delivery", delivery_id=delivery_id)
