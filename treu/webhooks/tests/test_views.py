from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from treu.core import events
from treu.webhooks import services
from treu.webhooks.models import PING, Delivery, Endpoint

pytestmark = pytest.mark.django_db

ROLES = ["marketer", "agent", "cashier"]  # none of them may touch webhooks; only the owner


def _pages(endpoint, delivery):
    """(url, method) of every webhook page."""
    e, d = endpoint.pk, delivery.pk
    return {
        "list": (reverse("webhooks:list"), "get"),
        "create": (reverse("webhooks:create"), "get"),
        "detail": (reverse("webhooks:detail", args=[e]), "get"),
        "edit": (reverse("webhooks:edit", args=[e]), "get"),
        "delete": (reverse("webhooks:delete", args=[e]), "get"),
        "rotate_secret": (reverse("webhooks:rotate_secret", args=[e]), "post"),
        "enable": (reverse("webhooks:enable", args=[e]), "post"),
        "send_test": (reverse("webhooks:send_test", args=[e]), "post"),
        "delivery": (reverse("webhooks:delivery", args=[d]), "get"),
        "redeliver": (reverse("webhooks:redeliver", args=[d]), "post"),
    }


PAGES = [
    "list",
    "create",
    "detail",
    "edit",
    "delete",
    "rotate_secret",
    "enable",
    "send_test",
    "delivery",
    "redeliver",
]


@pytest.fixture
def delivery(endpoint, anna):
    event = events.publish("customer.created", customer=anna, payload={})
    return Delivery.objects.create(
        endpoint=endpoint,
        event=event,
        kind=event.kind,
        payload=services.public_payload(event),
        status=Delivery.Status.GAVE_UP,
    )


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login(client, endpoint, delivery, page):
    url, method = _pages(endpoint, delivery)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", PAGES)
def test_it_refuses_users_without_a_role(client_of, outsider, endpoint, delivery, page):
    url, method = _pages(endpoint, delivery)[page]
    assert getattr(client_of(outsider), method)(url).status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_it_refuses_every_role_but_the_owner(client_of, request, endpoint, delivery, page, role):
    url, method = _pages(endpoint, delivery)[page]
    response = getattr(client_of(request.getfixturevalue(role)), method)(url)
    assert response.status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_the_owner_reaches_every_webhook_page(
    client_of, owner, endpoint, delivery, page, django_capture_on_commit_callbacks
):
    url, method = _pages(endpoint, delivery)[page]
    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(client_of(owner), method)(url)
    assert response.status_code == (200 if method == "get" else 302)


def test_the_menu_shows_webhooks_to_the_owner_only(client_of, owner, marketer):
    url = reverse("webhooks:list")
    assert url in client_of(owner).get(reverse("backoffice:overview")).content.decode()
    assert url not in client_of(marketer).get(reverse("backoffice:overview")).content.decode()


def test_the_list_shows_status_last_delivery_and_failures_in_few_queries(
    client_of, owner, receiver, django_assert_max_num_queries
):
    for n in range(5):
        endpoint = services.endpoint_create(
            url=f"https://empfaenger{n}.example/hook", kinds=["order.ingested"]
        )
    Endpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=7, last_delivery_at=timezone.now(), last_status_code=503
    )
    client = client_of(owner)
    # 5 for session, user, role and permissions; 3 for notices, endpoints and their events.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("webhooks:list"))
    content = response.content.decode()
    assert "https://empfaenger4.example/hook" in content
    assert "503" in content
    assert "order.ingested" in content


def test_the_detail_page_needs_the_same_queries_for_many_deliveries(
    client_of, owner, endpoint, django_assert_max_num_queries
):
    from treu.webhooks.models import Attempt

    now = timezone.now()
    for n in range(12):
        delivery = Delivery.objects.create(endpoint=endpoint, kind=PING, attempts=1)
        Attempt.objects.create(delivery=delivery, number=1, attempted_at=now, status_code=500 + n)
    client = client_of(owner)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert "511" in response.content.decode()


def test_the_list_warns_about_an_endpoint_treu_switched_off(client_of, owner, endpoint):
    Endpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_at=timezone.now())
    response = client_of(owner).get(reverse("webhooks:list"))
    assert response.context["switched_off"][0] == endpoint
    assert 'role="alert"' in response.content.decode()
    detail = client_of(owner).get(reverse("webhooks:detail", args=[endpoint.pk]))
    content = detail.content.decode()
    assert 'role="alert"' in content
    assert reverse("webhooks:enable", args=[endpoint.pk]) in content


def test_the_owner_creates_an_endpoint_and_sees_its_secret(client_of, owner, receiver):
    response = client_of(owner).post(
        reverse("webhooks:create"),
        {"url": receiver.url, "description": "Lager", "kinds": ["order.ingested"], "active": "on"},
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("webhooks:detail", args=[endpoint.pk])
    assert endpoint.kinds == ["order.ingested"]
    detail = client_of(owner).get(response.url).content.decode()
    assert endpoint.secret in detail


def test_the_form_offers_every_outbound_kind(client_of, owner):
    content = client_of(owner).get(reverse("webhooks:create")).content.decode()
    for kind in ("customer.created", "customer.merged", "order.refunded", "order.cancelled"):
        assert f'value="{kind}"' in content


def test_it_explains_in_german_what_is_wrong_and_saves_nothing(client_of, owner):
    client = client_of(owner)
    response = client.post(reverse("webhooks:create"), {"url": "", "kinds": []})
    assert response.status_code == 400
    content = response.content.decode()
    assert "Dieses Feld ist zwingend erforderlich." in content
    assert "Bitte prüfen Sie Ihre Eingaben – es wurde nichts gespeichert." in content

    response = client.post(
        reverse("webhooks:create"), {"url": "http://shop.example/hook", "kinds": ["order.ingested"]}
    )
    assert response.status_code == 400
    with translation.override("de"):
        expected = gettext(
            "Events about customers may only travel encrypted: please use an https:// address."
        )
    assert expected in response.content.decode()

    response = client.post(
        reverse("webhooks:create"), {"url": "file:///etc/passwd", "kinds": ["order.ingested"]}
    )
    assert response.status_code == 400
    assert not Endpoint.objects.exists()


def test_the_owner_edits_an_endpoint(client_of, owner, endpoint):
    response = client_of(owner).post(
        reverse("webhooks:edit", args=[endpoint.pk]),
        {"url": "https://neu.example/hook", "kinds": ["order.refunded"], "description": "Neu"},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.kinds, endpoint.active) == (
        "https://neu.example/hook",
        ["order.refunded"],
        False,  # the checkbox was not ticked
    )


def test_the_edit_form_shows_the_current_settings(client_of, owner, endpoint):
    content = client_of(owner).get(reverse("webhooks:edit", args=[endpoint.pk])).content.decode()
    assert endpoint.url in content
    checked = [line for line in content.splitlines() if "checked" in line and "kinds" in line]
    assert any('value="customer.created"' in line for line in checked)
    assert not any('value="order.refunded"' in line for line in checked)


def test_the_owner_deletes_an_endpoint(client_of, owner, endpoint, delivery):
    response = client_of(owner).post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert response.status_code == 302
    assert not Endpoint.objects.exists()
    assert not Delivery.objects.exists()


def test_rotating_changes_the_secret(client_of, owner, endpoint):
    old = endpoint.secret
    client_of(owner).post(reverse("webhooks:rotate_secret", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old


def test_the_test_button_pings_the_receiver(
    client_of, owner, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_of(owner).post(reverse("webhooks:send_test", args=[endpoint.pk]))
    assert [r.headers["X-Treu-Event"] for r in receiver.requests] == [PING]
    detail = client_of(owner).get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert PING in detail.content.decode()


def test_the_enable_button_resets_the_counter(client_of, owner, endpoint):
    Endpoint.objects.filter(pk=endpoint.pk).update(
        active=False, disabled_at=timezone.now(), consecutive_failures=10
    )
    client_of(owner).post(reverse("webhooks:enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.consecutive_failures, endpoint.disabled_at) == (True, 0, None)


def test_redeliver_sends_a_delivery_again(
    client_of, owner, delivery, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_of(owner).post(reverse("webhooks:redeliver", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert len(receiver.requests) == 1
    page = client_of(owner).get(reverse("webhooks:delivery", args=[delivery.pk]))
    assert "200" in page.content.decode()


def test_unknown_ids_are_404(client_of, owner):
    client = client_of(owner)
    assert client.get(reverse("webhooks:detail", args=[999])).status_code == 404
    assert client.get(reverse("webhooks:delivery", args=[999])).status_code == 404
