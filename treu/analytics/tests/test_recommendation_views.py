"""The recommendations in the back office: the analytics page, its CSV tables, and the panels
on the customer's 360° page and the product page (who sees them, what they show)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.urls import reverse

from treu.analytics import services
from treu.analytics.tests.helpers import berlin
from treu.analytics.tests.reco_helpers import buy, consumable, durable
from treu.core import privacy
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = berlin(2025, 6, 20, 12).astimezone(UTC)
PAGES = [
    reverse("analytics:recommendations"),
    reverse("analytics:recommendations_export", args=["related"]),
    reverse("analytics:recommendations_export", args=["reorder"]),
    reverse("analytics:recommendations_export", args=["bestsellers"]),
]


@pytest.fixture
def shop(db):
    """Three customers buy the espresso and a machine, then the espresso again a month on."""
    espresso = consumable("E-HAUS-250", name="Espresso Hausmischung, 250 g")
    machine = durable("M-SIEB1", name="Siebträgermaschine Einkreiser")
    people = [CustomerFactory() for _ in range(3)]
    for person in people:
        buy(person, NOW - timedelta(days=40), espresso, machine)
        buy(person, NOW - timedelta(days=10), espresso)
    services.recompute_analytics(now=NOW)
    return espresso, machine, people


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_owner_and_marketing_see_the_page_and_tables(client_of, owner, marketer, shop, url):
    for user in (owner, marketer):
        assert client_of(user).get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_support_cashier_and_outsiders_get_403(client_of, agent, cashier, outsider, url):
    for user in (agent, cashier, outsider):
        assert client_of(user).get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_go_to_the_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_an_unknown_table_is_404(client_of, owner):
    url = reverse("analytics:recommendations_export", args=["nothing"])
    assert client_of(owner).get(url).status_code == 404


def test_the_page_shows_pairs_best_sellers_and_intervals(client_of, owner, shop):
    espresso, machine, _ = shop
    url = reverse("analytics:recommendations") + f"?product={machine.pk}"
    body = _body(client_of(owner).get(url))
    assert "Espresso Hausmischung, 250 g" in body
    # Every machine buyer bought the espresso, but the machine 30 days earlier than the last
    # bag: √(w40 / w10) = 0.5^(30 / 360) = 0.944.
    assert "0,94" in body
    assert "Bestseller der letzten 90 Tage" in body
    assert "Nachkaufintervalle" in body and "30,0" in body  # 30 days between the bags


def test_the_page_without_a_recompute_explains_itself(client_of, owner):
    body = _body(client_of(owner).get(reverse("analytics:recommendations")))
    assert "mindestens drei Kunden" in body


def test_the_page_takes_a_fixed_number_of_queries(
    client_of, owner, shop, django_assert_max_num_queries
):
    client = client_of(owner)
    client.get(reverse("analytics:recommendations"))
    with django_assert_max_num_queries(14):
        assert client.get(reverse("analytics:recommendations")).status_code == 200


def test_the_csv_tables_hold_the_figures(client_of, owner, shop):
    client = client_of(owner)
    related = _body(client.get(reverse("analytics:recommendations_export", args=["related"])))
    lines = related.strip().splitlines()
    assert lines[0].startswith("Artikelnummer;Produkt;Rang")
    assert "E-HAUS-250;Espresso Hausmischung, 250 g;1;M-SIEB1;" in related
    assert lines[1].endswith(";0,9439;3")
    reorder = _body(client.get(reverse("analytics:recommendations_export", args=["reorder"])))
    assert "E-HAUS-250" in reorder and "30,0" in reorder
    sellers = _body(client.get(reverse("analytics:recommendations_export", args=["bestsellers"])))
    assert "1;E-HAUS-250" in sellers


def test_the_customer_page_shows_recommendations_and_run_outs(client_of, owner, shop):
    espresso, machine, people = shop
    newcomer = CustomerFactory()
    buy(newcomer, NOW - timedelta(days=2), espresso)
    services.recompute_analytics(now=NOW)
    body = _body(client_of(owner).get(reverse("customers:detail", args=[newcomer.pk])))
    assert "Produktempfehlungen" in body and "Siebträgermaschine Einkreiser" in body
    assert "Voraussichtlich aufgebraucht" in body
    # An owner of the machine is not offered it again.
    body = _body(client_of(owner).get(reverse("customers:detail", args=[people[0].pk])))
    assert "Produktempfehlungen" in body
    assert body.count("Siebträgermaschine Einkreiser") == 0


def test_roles_without_analytics_do_not_see_the_customer_panel(client_of, agent, shop):
    _, _, people = shop
    response = client_of(agent).get(reverse("customers:detail", args=[people[0].pk]))
    assert response.status_code == 200
    assert "Produktempfehlungen" not in _body(response)


def test_an_erased_customer_gets_no_panel(client_of, owner, shop):
    _, _, people = shop
    privacy.erase_customer(people[0])
    body = _body(client_of(owner).get(reverse("customers:detail", args=[people[0].pk])))
    assert "Produktempfehlungen" not in body


def test_the_product_page_shows_related_products_and_the_interval(client_of, owner, shop):
    espresso, machine, _ = shop
    body = _body(client_of(owner).get(reverse("commerce:product_detail", args=[espresso.pk])))
    assert "Kunden, die Espresso Hausmischung, 250 g kauften, kauften auch" in body
    assert "Siebträgermaschine Einkreiser" in body
    assert "Nachkaufintervall" in body
    body = _body(client_of(owner).get(reverse("commerce:product_detail", args=[machine.pk])))
    assert "Gebrauchsgut" in body
