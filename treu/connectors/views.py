"""Back-office pages for shop connections (owner only)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.commerce.models import Shop
from treu.connectors import selectors, services
from treu.connectors.forms import ConnectionForm, SecretForm
from treu.connectors.models import InboundDelivery, ShopConnection

FIELD_MAP = {"kind": "platform"}


def _connection_or_404(connection_id: int) -> ShopConnection:
    try:
        return selectors.connection_detail(connection_id)
    except ShopConnection.DoesNotExist:
        raise Http404 from None


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@staff_view("connectors.view_shopconnection")
def connection_list(request):
    rows = selectors.connection_list()
    return render(request, "connectors/connection_list.html", {"rows": rows})


@staff_view("connectors.add_shopconnection")
def connection_create(request):
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.create_connection(**form.cleaned_data)
        except services.ConnectionRejected as error:
            add_service_errors(form, error, field_map=FIELD_MAP)
        else:
            messages.success(request, _("Shop connected. Now set up the webhooks in the shop."))
            return redirect("connectors:detail", connection_id=connection.pk)
    status = 400 if form.errors else 200
    return render(request, "connectors/connection_form.html", {"form": form}, status=status)


@staff_view("connectors.add_shopconnection")
@require_POST
def shop_connect(request, shop_id: int):
    shop = get_object_or_404(Shop, pk=shop_id)
    try:
        connection = services.connect_shop(shop=shop)
    except services.ConnectionRejected as error:
        messages.error(request, " ".join(error.messages))
        return redirect("connectors:list")
    return redirect("connectors:detail", connection_id=connection.pk)


@staff_view("connectors.view_shopconnection")
def connection_detail(request, connection_id: int):
    connection = _connection_or_404(connection_id)
    context = {
        "connection": connection,
        "setup": selectors.setup_for(connection, base_url=_base_url(request)),
        "deliveries": selectors.recent_deliveries(connection),
        "secret_form": SecretForm(),
    }
    return render(request, "connectors/connection_detail.html", context)


@staff_view("connectors.change_shopconnection")
@require_POST
def connection_rotate(request, connection_id: int):
    connection = _connection_or_404(connection_id)
    form = SecretForm(request.POST)
    if form.is_valid():
        try:
            services.rotate_secret(connection, secret=form.cleaned_data["secret"])
        except services.ConnectionRejected as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("New secret saved. Enter it in the shop system now."))
    return redirect("connectors:detail", connection_id=connection.pk)


@staff_view("connectors.change_shopconnection")
@require_POST
def connection_toggle(request, connection_id: int):
    connection = _connection_or_404(connection_id)
    services.set_active(connection, active=not connection.active)
    return redirect("connectors:detail", connection_id=connection.pk)


@staff_view("connectors.change_shopconnection")
@require_POST
def delivery_retry(request, connection_id: int, delivery_id: int):
    connection = _connection_or_404(connection_id)
    try:
        services.retry_delivery(selectors.delivery_of(connection, delivery_id))
    except InboundDelivery.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The delivery is being processed again."))
    return redirect("connectors:detail", connection_id=connection.pk)


@staff_view("connectors.view_shopconnection")
def shopware_manifest(request, connection_id: int):
    """The manifest.xml of a private Shopware app that sends this shop's events to treu."""
    connection = _connection_or_404(connection_id)
    if connection.platform != "shopware":
        raise Http404
    context = {
        "connection": connection,
        "setup": selectors.setup_for(connection, base_url=_base_url(request)),
    }
    xml = render_to_string("connectors/shopware_manifest.xml", context)
    response = HttpResponse(xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="manifest.xml"'
    return response
