"""The automation pages: who may use them, the switch, step editing with validation, the
figures on the flow page, the staff tasks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.customers.tests.factories import CustomerFactory
from treu.messaging.flows import engine, services
from treu.messaging.models import Enrollment, Flow, StaffTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def welcome():
    return Flow.objects.get(default_key="welcome")


@pytest.fixture
def task(welcome):
    return StaffTask.objects.create(
        title="Dankeskarte", customer=CustomerFactory(), flow=welcome, key="t:1",
        created_at="2026-03-02T12:00:00+01:00",
    )  # fmt: skip


def _pages(flow, task):
    step = flow.steps.get(position=2)
    return {
        "list": (reverse("messaging:flow_list"), "get"),
        "detail": (reverse("messaging:flow_detail", args=[flow.pk]), "get"),
        "edit": (reverse("messaging:flow_edit", args=[flow.pk]), "get"),
        "step": (reverse("messaging:flow_step_edit", args=[flow.pk, step.pk]), "get"),
        "switch": (reverse("messaging:flow_switch", args=[flow.pk]), "post"),
    }


PAGES = ["list", "detail", "edit", "step", "switch"]


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login(client, welcome, task, page):
    url, method = _pages(welcome, task)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["agent", "cashier", "outsider"])
def test_it_refuses_everyone_but_owner_and_marketing(client, welcome, task, page, who, request):
    client.force_login(request.getfixturevalue(who))
    url, method = _pages(welcome, task)[page]
    assert getattr(client, method)(url).status_code == 403


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["owner", "marketer"])
def test_owner_and_marketing_may_use_every_page(client, welcome, task, page, who, request):
    client.force_login(request.getfixturevalue(who))
    url, method = _pages(welcome, task)[page]
    assert getattr(client, method)(url).status_code in (200, 302)


def test_the_list_shows_every_default_switched_off(client, marketer):
    client.force_login(marketer)
    response = client.get(reverse("messaging:flow_list"))
    body = response.content.decode()
    assert body.count("Einschalten") == 11
    assert "Willkommensstrecke" in body and "Geburtstag mit Gutschein" in body


def test_switching_on_and_off_from_the_list(client, marketer, welcome):
    client.force_login(marketer)
    url = reverse("messaging:flow_switch", args=[welcome.pk])
    response = client.post(url, {"active": "1", "next": "list"})
    assert response.url == reverse("messaging:flow_list")
    welcome.refresh_from_db()
    assert welcome.active
    services.enroll_customers(welcome, {CustomerFactory().pk: ""})
    client.post(url, {"active": "0"})
    welcome.refresh_from_db()
    assert not welcome.active
    assert Enrollment.objects.get().status == "cancelled"


def test_a_wait_step_is_edited_and_bad_input_is_refused_unchanged(client, marketer, welcome):
    client.force_login(marketer)
    step = welcome.steps.get(kind="wait")
    url = reverse("messaging:flow_step_edit", args=[welcome.pk, step.pk])
    response = client.post(url, {"days": "400", "hours": "0", "anchor": ""})
    assert response.status_code == 400
    step.refresh_from_db()
    assert step.settings["days"] == 7
    response = client.post(url, {"days": "3", "hours": "6", "anchor": ""})
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.settings == {"days": 3, "hours": 6, "anchor": ""}


def test_a_coupon_step_takes_an_amount_in_euro(client, owner):
    client.force_login(owner)
    birthday = Flow.objects.get(default_key="birthday")
    step = birthday.steps.get(kind="coupon")
    url = reverse("messaging:flow_step_edit", args=[birthday.pk, step.pk])
    response = client.post(
        url, {"value": "amount", "amount": "7,50", "valid_days": "14", "label": "Zum Geburtstag"}
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert (step.settings["amount_cents"], step.settings["valid_days"]) == (750, 14)
    response = client.post(url, {"value": "amount", "amount": "viel", "valid_days": "14"})
    assert response.status_code == 400
    assert "5,00" in response.content.decode()


def test_the_control_group_is_limited_to_half(client, owner, welcome):
    client.force_login(owner)
    url = reverse("messaging:flow_edit", args=[welcome.pk])
    response = client.post(url, {"name": "Willkommen", "description": "", "control_percent": "70"})
    assert response.status_code == 400
    response = client.post(url, {"name": "Willkommen", "description": "", "control_percent": "10"})
    welcome.refresh_from_db()
    assert (welcome.name, welcome.control_percent) == ("Willkommen", 10)


def test_the_flow_page_shows_per_step_counts(client, marketer, welcome):
    from treu.messaging.tests.sending_world import consenting_customer

    welcome = services.switch_flow(flow=welcome, active=True)
    customers = [consenting_customer() for _ in range(3)]
    services.enroll_customers(welcome, {c.pk: "" for c in customers})
    engine.run_due_enrollments()
    client.force_login(marketer)
    response = client.get(reverse("messaging:flow_detail", args=[welcome.pk]))
    rows = response.context["rows"]
    assert (rows[0].entered, rows[0].sent, rows[1].waiting) == (3, 3, 3)
    assert response.context["outcome"].treated.people == 3


def test_support_sees_tasks_and_marks_them_done(client, agent, task):
    client.force_login(agent)
    assert "Dankeskarte" in client.get(reverse("messaging:task_list")).content.decode()
    client.post(reverse("messaging:task_done", args=[task.pk]))
    task.refresh_from_db()
    assert task.done_by == agent and task.done_at is not None


def test_a_cashier_may_not_see_tasks(client, cashier, task):
    client.force_login(cashier)
    assert client.get(reverse("messaging:task_list")).status_code == 403


def test_the_pages_read_a_fixed_number_of_queries(client, marketer, django_assert_max_num_queries):
    flow = services.switch_flow(flow=Flow.objects.get(default_key="winback"), active=True)
    services.enroll_customers(flow, {CustomerFactory().pk: str(n) for n in range(1)})
    client.force_login(marketer)
    with django_assert_max_num_queries(12):
        client.get(reverse("messaging:flow_list"))
    with django_assert_max_num_queries(18):
        response = client.get(reverse("messaging:flow_detail", args=[flow.pk]))
    body = response.content.decode()
    assert "Tage über der erwarteten Bestellung" in body
