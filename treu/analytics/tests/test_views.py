"""The analytics pages: who may see them, what they show, how many queries they cost."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from treu.analytics.models import AnalyticsSettings, RecomputeRun, month_index
from treu.analytics.tests.helpers import berlin, order, recompute
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = berlin(2025, 6, 20)
PAGES = [
    reverse("analytics:dashboard"),
    reverse("analytics:segments"),
    reverse("analytics:report"),
    reverse("analytics:next_steps"),
    reverse("analytics:experiments"),
    reverse("analytics:prediction"),
    reverse("analytics:customers") + "?metric=segment&segment=lost",
    reverse("analytics:export", args=["kpis"]),
    reverse("analytics:export", args=["cohorts"]),
    reverse("analytics:export", args=["segments"]),
    reverse("analytics:export", args=["moves"]),
    reverse("analytics:export", args=["rfm-grid"]),
    reverse("analytics:export", args=["customers"]) + "?metric=segment&segment=lost",
]


@pytest.fixture
def shop_with_history(db):
    """Two years of a small shop: anna regular, ben once, cleo lapsed and back, a guest."""
    anna, ben, cleo = (
        CustomerFactory(first_name=n, last_name="Test") for n in ("Anna", "Ben", "Cleo")
    )
    for month in range(1, 13):
        order(anna, berlin(2024, month, 3), 2500)
    order(anna, berlin(2025, 2, 3), 2500)
    order(ben, berlin(2024, 7, 9), 4000)
    order(cleo, berlin(2023, 9, 9), 1000)
    order(cleo, berlin(2025, 5, 9), 1500)
    order(None, berlin(2025, 5, 10), 900)
    recompute(NOW)
    return anna, ben, cleo


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_owner_and_marketing_see_every_page(client_of, owner, marketer, shop_with_history, url):
    for user in (owner, marketer):
        assert client_of(user).get(url).status_code == 200


@pytest.mark.parametrize("url", [*PAGES, reverse("analytics:settings")])
def test_support_cashier_and_outsiders_get_403(client_of, agent, cashier, outsider, url):
    for user in (agent, cashier, outsider):
        assert client_of(user).get(url).status_code == 403


@pytest.mark.parametrize("url", [*PAGES, reverse("analytics:settings")])
def test_anonymous_visitors_go_to_the_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_only_the_owner_sets_targets(client_of, owner, marketer):
    assert client_of(marketer).get(reverse("analytics:settings")).status_code == 403
    assert client_of(owner).get(reverse("analytics:settings")).status_code == 200


def test_the_dashboard_shows_the_kpis_with_links_to_their_customers(
    client_of, owner, shop_with_history
):
    page = client_of(owner).get(
        reverse("analytics:dashboard"), {"period": "12", "month": "2025-05"}
    )
    html = page.content.decode()
    assert "Kundenbindungsrate" in html
    assert "Zuletzt aktualisiert" in html
    # Rolling year June 2024 – May 2025: S = anna and cleo (her September 2023 order is
    # within the twelve months before the end of May 2024); both are active at the end of
    # May 2025 (cleo again, after a gap): retention 100 %.
    card = page.context["d"].cards[0]
    assert card.key == "retention" and card.value == 1
    assert "metric=retained&amp;month=2025-05&amp;period=12" in html
    assert "<svg" in html and "<title" in html and "<desc" in html
    assert 'id="cohort-table"' in html


def test_the_dashboard_reads_only_the_aggregates(
    client_of, owner, shop_with_history, django_assert_num_queries
):
    client = client_of(owner)
    client.get(reverse("analytics:dashboard"))  # warm the session and permission caches
    # session, user, groups (role), user and group permissions; then settings, runs,
    # periods, the last month, cohorts
    with django_assert_num_queries(10):
        assert client.get(reverse("analytics:dashboard")).status_code == 200
    # More orders, same queries: nothing scales with the orders.
    for month in range(1, 6):
        order(CustomerFactory(), berlin(2023, month, 1))
    recompute(NOW)
    with django_assert_num_queries(10):
        client.get(reverse("analytics:dashboard"), {"period": "3", "cohorts": "revenue"})


def test_the_segment_page_costs_a_fixed_number_of_queries(
    client_of, owner, shop_with_history, django_assert_num_queries
):
    client = client_of(owner)
    client.get(reverse("analytics:segments"))
    with django_assert_num_queries(9):  # 5 for the shell; segments, cells, moves, runs
        html = client.get(reverse("analytics:segments")).content.decode()
    assert "Champions" in html and "Verloren" in html


def test_the_drill_down_lists_the_customers_and_links_to_them(
    client_of, owner, shop_with_history, django_assert_num_queries
):
    anna, ben, cleo = shop_with_history
    client = client_of(owner)
    url = reverse("analytics:customers")
    client.get(url, {"metric": "customers", "month": "2025-05", "period": "1"})
    with django_assert_num_queries(7):  # 5 for the shell (session, user, role, perms); count, page
        page = client.get(url, {"metric": "customers", "month": "2025-05", "period": "1"})
    html = page.content.decode()
    for person in (anna, ben, cleo):
        assert reverse("customers:detail", args=[person.pk]) in html
    assert page.context["page"].paginator.count == 3
    lost = client.get(url, {"metric": "lost", "month": "2025-05", "period": "12"})
    assert lost.context["page"].paginator.count == 0
    # March–May 2025: cleo's September 2023 order had lapsed by the end of February.
    back = client.get(url, {"metric": "reactivated", "month": "2025-05", "period": "3"})
    assert [f.customer for f in back.context["page"].object_list] == [cleo]


@pytest.mark.parametrize(
    "query",
    [
        {"metric": "nonsense"},
        {"metric": "retained", "month": "Mai"},
        {"metric": "retained", "month": "2025-05", "period": "7"},
        {"metric": "segment", "segment": "vip"},
        {"metric": "rfm", "r": "9", "fm": "1"},
        {"metric": "second_within", "month": "2025-05", "days": "45"},
    ],
)
def test_a_bad_drill_down_address_is_a_404(client_of, owner, query):
    assert client_of(owner).get(reverse("analytics:customers"), query).status_code == 404


def test_an_unknown_csv_table_is_a_404(client_of, owner):
    assert client_of(owner).get(reverse("analytics:export", args=["orders"])).status_code == 404


def test_the_csv_exports_are_german_excel_friendly(client_of, owner, shop_with_history):
    client = client_of(owner)
    kpis = _body(client.get(reverse("analytics:export", args=["kpis"]), {"period": "1"}))
    assert kpis.startswith("\ufeff")
    header, *rows = kpis.lstrip("\ufeff").splitlines()
    assert header.split(";")[0] == "Letzter Monat des Zeitraums"
    may = next(r.split(";") for r in rows if r.startswith("2025-05"))
    assert may[10] == "2"  # orders: cleo and the guest
    assert may[11] == "24,00"  # 15,00 € + 9,00 €
    customers = _body(
        client.get(
            reverse("analytics:export", args=["customers"]),
            {"metric": "customers", "month": "2025-06", "period": "1"},
        )
    )
    assert "Anna Test" in customers and "325,00" in customers  # 13 × 25 €


def test_the_recompute_button_queues_a_run_for_marketing(
    client_of, marketer, django_capture_on_commit_callbacks
):
    client = client_of(marketer)
    assert client.get(reverse("analytics:recompute")).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("analytics:recompute"))
    assert response.status_code == 302
    run = RecomputeRun.objects.get()
    assert run.status == "done" and run.requested_by == marketer


def test_the_recompute_button_is_refused_to_support(client_of, agent):
    assert client_of(agent).post(reverse("analytics:recompute")).status_code == 403
    assert not RecomputeRun.objects.exists()


def test_the_owner_saves_targets_and_a_new_window_recomputes(
    client_of, owner, django_capture_on_commit_callbacks
):
    client = client_of(owner)
    data = {
        "active_window_months": "6",
        "target_retention_pct": "45",
        "target_churn_pct": "40",
        "target_clv": "1.500,00",
        "target_nps": "35",
        "industry": "hospitality",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("analytics:settings"), data)
    assert response.status_code == 302
    saved = AnalyticsSettings.objects.get()
    assert (saved.active_window_months, saved.target_clv_cents, saved.industry) == (
        6, 150000, "hospitality",
    )  # fmt: skip
    assert RecomputeRun.objects.count() == 1


def test_bad_targets_are_refused_in_german_and_nothing_is_saved(client_of, owner):
    response = client_of(owner).post(
        reverse("analytics:settings"),
        {
            "active_window_months": "40",
            "target_retention_pct": "45",
            "target_churn_pct": "40",
            "target_clv": "viel",
            "target_nps": "35",
            "industry": "retail",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Betrag in Euro" in html
    assert not AnalyticsSettings.objects.exists()


def test_an_empty_shop_shows_how_figures_come(client_of, owner):
    html = client_of(owner).get(reverse("analytics:dashboard")).content.decode()
    assert 'id="no-figures"' in html and "Noch nicht berechnet" in html


def test_a_month_in_the_query_picks_the_period(client_of, owner, shop_with_history):
    response = client_of(owner).get(
        reverse("analytics:dashboard"), {"month": "2024-12", "period": "1"}
    )
    assert response.context["d"].month == month_index(date(2024, 12, 1))
    nonsense = client_of(owner).get(reverse("analytics:dashboard"), {"month": "x", "period": "y"})
    assert nonsense.context["d"].period == 12  # the defaults, not an error
