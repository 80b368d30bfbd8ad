from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from treu.commerce.models import Order, Return
from treu.commerce.tests.factories import ProductFactory, ShopFactory, make_order

pytestmark = pytest.mark.django_db

ROLES = ["owner", "marketer", "agent", "cashier"]


@pytest.fixture
def order(anna, shop):
    return make_order(customer=anna, shop=shop, lines=((2, 1490, 700), (1, 990, 1900)))


def _pages(order, product):
    return {
        "order_list": (reverse("commerce:order_list"), "get", {"owner", "marketer", "agent"}),
        "order_detail": (
            reverse("commerce:order_detail", args=[order.pk]),
            "get",
            {"owner", "marketer", "agent"},
        ),
        "order_return": (
            reverse("commerce:order_return", args=[order.pk]),
            "post",
            {"owner", "agent"},
        ),
        "product_list": (reverse("commerce:product_list"), "get", {"owner", "marketer", "agent"}),
        "product_detail": (
            reverse("commerce:product_detail", args=[product.pk]),
            "get",
            {"owner", "marketer", "agent"},
        ),
    }


PAGES = ["order_list", "order_detail", "order_return", "product_list", "product_detail"]


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login(client, order, page):
    url, method, _ = _pages(order, ProductFactory())[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", PAGES)
def test_it_refuses_users_without_a_role(client_of, outsider, order, page):
    url, method, _ = _pages(order, ProductFactory())[page]
    assert getattr(client_of(outsider), method)(url).status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_role_reaches_exactly_the_commerce_pages_it_may_use(
    client_of, request, order, page, role
):
    url, method, allowed = _pages(order, ProductFactory())[page]
    response = getattr(client_of(request.getfixturevalue(role)), method)(url)
    if role in allowed:
        # An empty return form is refused as bad input, but only after the access check.
        assert response.status_code == (400 if page == "order_return" else 200)
    else:
        assert response.status_code == 403


# -- Orders -------------------------------------------------------------------------------------


def test_the_order_list_searches_by_order_number_with_or_without_hash(client_of, agent, order):
    make_order(shop=order.shop)
    client = client_of(agent)
    for query in (order.number, order.number.lstrip("#")):
        page = client.get(reverse("commerce:order_list"), {"q": query}).context["page"]
        assert list(page.object_list) == [order]


def test_the_order_list_filters_by_status_shop_and_date(client_of, agent, anna, shop):
    store = ShopFactory(code="laden", name="Laden Altona", kind="pos")
    old = make_order(customer=anna, shop=shop, placed_at=timezone.now() - timedelta(days=60))
    in_store = make_order(customer=anna, shop=store)
    pending = make_order(shop=shop, status="pending")
    client = client_of(agent)

    def listed(**params):
        return set(client.get(reverse("commerce:order_list"), params).context["page"].object_list)

    assert listed(status="pending") == {pending}
    assert listed(shop=store.pk) == {in_store}
    since = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert listed(placed_until=since) == {old}
    assert listed(placed_from=since) == {in_store, pending}


def test_the_order_list_needs_the_same_few_queries_for_many_orders(
    client_of, agent, shop, django_assert_num_queries
):
    from treu.customers.tests.factories import CustomerFactory

    for _ in range(30):
        make_order(customer=CustomerFactory(), shop=shop)
    client = client_of(agent)
    client.get(reverse("commerce:order_list"))
    # session, user, groups, permissions (user + group), shops for the filter, count, page
    with django_assert_num_queries(8):
        response = client.get(reverse("commerce:order_list"), {"status": "paid"})
    assert len(response.context["page"].object_list) == 30


def test_the_order_page_shows_lines_totals_and_the_customer(client_of, agent, anna, shop):
    order = make_order(
        customer=anna, shop=shop, lines=((2, 1490, 700),), shipping_cents=490, discount_cents=500
    )
    content = client_of(agent).get(reverse("commerce:order_detail", args=[order.pk])).content
    content = content.decode()
    for text in ("29,80\u00a0€", "4,90\u00a0€", "5,00\u00a0€", "29,70\u00a0€", "Anna Müller",
                 reverse("customers:detail", args=[anna.pk]), "Artikel 1"):  # fmt: skip
        assert text in content


def test_marketing_sees_the_order_but_no_return_form(client_of, marketer, order):
    response = client_of(marketer).get(reverse("commerce:order_detail", args=[order.pk]))
    assert response.context["return_form"] is None
    assert reverse("commerce:order_return", args=[order.pk]) not in response.content.decode()


def test_an_unknown_order_is_a_404(client_of, agent):
    assert client_of(agent).get(reverse("commerce:order_detail", args=[98765])).status_code == 404


# -- Returns ------------------------------------------------------------------------------------


def _return_data(order, quantities, **extra):
    lines = list(order.lines.order_by("id"))
    data = {f"line_{line.pk}": q for line, q in zip(lines, quantities, strict=False)}
    return {"reason": "damaged", "comment": "", "shipping_refund": "", **data, **extra}


def test_support_records_a_return_for_some_items(client_of, agent, order):
    response = client_of(agent).post(
        reverse("commerce:order_return", args=[order.pk]),
        _return_data(order, [1, 0], shipping_refund="4,90", comment="Tüte gerissen"),
    )
    assert response.status_code == 302
    record = Return.objects.get(order=order)
    assert record.amount_cents == 1490 + 490
    assert record.reason == "damaged"
    order.refresh_from_db()
    assert order.refunded_cents == 1980


def test_a_return_of_more_than_was_bought_is_refused_and_nothing_is_written(
    client_of, agent, order
):
    response = client_of(agent).post(
        reverse("commerce:order_return", args=[order.pk]), _return_data(order, [3, 0])
    )
    assert response.status_code == 400
    first_line = order.lines.order_by("id").first()
    assert f"line_{first_line.pk}" in response.context["return_form"].errors
    assert not Return.objects.exists()


def test_a_refusal_from_the_service_lands_on_the_right_line(client_of, agent, order, monkeypatch):
    # Two people returning the same goods at once: the form passed, the locked service refuses.
    from treu.commerce import services

    def refuse(*args, **kwargs):
        raise services.OrderRejected({"lines.1": ["Nur noch 0 zurückzugeben."]})

    monkeypatch.setattr(services, "record_return", refuse)
    second_line = order.lines.order_by("id").last()
    response = client_of(agent).post(
        reverse("commerce:order_return", args=[order.pk]), _return_data(order, [0, 1])
    )
    assert response.status_code == 400
    errors = response.context["return_form"].errors
    assert errors[f"line_{second_line.pk}"] == ["Nur noch 0 zurückzugeben."]
    assert not Return.objects.exists()


def test_an_empty_return_is_refused(client_of, agent, order):
    response = client_of(agent).post(
        reverse("commerce:order_return", args=[order.pk]), _return_data(order, [0, 0])
    )
    assert response.status_code == 400
    assert response.context["return_form"].non_field_errors()
    assert not Return.objects.exists()


def test_a_mistyped_shipping_refund_is_refused(client_of, agent, order):
    response = client_of(agent).post(
        reverse("commerce:order_return", args=[order.pk]),
        _return_data(order, [1, 0], shipping_refund="vier Euro"),
    )
    assert response.status_code == 400
    assert "shipping_refund" in response.context["return_form"].errors
    assert not Return.objects.exists()


def test_a_cancelled_order_cannot_get_a_return(client_of, agent, anna, shop):
    cancelled = make_order(customer=anna, shop=shop, status="cancelled")
    response = client_of(agent).post(
        reverse("commerce:order_return", args=[cancelled.pk]), _return_data(cancelled, [1])
    )
    assert response.status_code == 400
    assert response.context["return_form"].non_field_errors()
    assert not Return.objects.exists()
    assert Order.objects.get(pk=cancelled.pk).refunded_cents == 0


# -- Products -----------------------------------------------------------------------------------


def test_the_product_list_filters_by_category_and_shows_units_sold(client_of, marketer, shop):
    from treu.commerce.tests.factories import CategoryFactory

    beans = ProductFactory(name="Hausmischung", sku="HM-1")
    tools = ProductFactory(
        name="Handmühle", sku="MUEHLE", category=CategoryFactory(name="Zubehör", slug="zubehoer")
    )
    make_order(shop=shop, lines=((3, 1490, 700),))  # SKU T-1 is no product: not counted
    from treu.commerce import services

    services.ingest_order(
        services.OrderInput(
            shop=shop,
            external_id="P1",
            placed_at=timezone.now() - timedelta(hours=1),
            lines=[
                services.LineInput(
                    title="Hausmischung",
                    sku="HM-1",
                    quantity=4,
                    unit_price_cents=1490,
                    tax_rate_bp=700,
                )
            ],  # fmt: skip
            total_cents=4 * 1490,
        )
    )
    client = client_of(marketer)
    response = client.get(reverse("commerce:product_list"))
    assert dict(response.context["rows"]) == {beans: 4, tools: 0}
    response = client.get(reverse("commerce:product_list"), {"category": tools.category_id})
    assert [p for p, _ in response.context["rows"]] == [tools]
    detail = client.get(reverse("commerce:product_detail", args=[beans.pk]))
    assert detail.context["sales"].units == 4
    assert detail.context["sales"].orders == 1
    assert "59,60\u00a0€" in detail.content.decode()
