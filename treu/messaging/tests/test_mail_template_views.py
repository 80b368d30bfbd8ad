"""The mail template pages: access, the block editor without JS, preview, test send."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.customers.tests.factories import CustomerFactory
from treu.messaging import services
from treu.messaging.models import MailTemplate, OutboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://treu.example"
    settings.TREU_SHOP_URL = ""


@pytest.fixture
def template(db) -> MailTemplate:
    return services.save_mail_template(
        name="Frühling",
        kind="marketing",
        subject='Frühling, {{ vorname|default:"ihr Lieben" }}',
        preheader="",
        blocks=[
            {"type": "heading", "text": "Neue Ernte"},
            {"type": "text", "text": "Hallo {{ vorname }}"},
            {"type": "button", "label": "Ansehen", "url": "/"},
        ],
    )


def editor_post(template: MailTemplate | None = None, **overrides) -> dict:
    data = {
        "name": "Frühling",
        "kind": "marketing",
        "subject": "Frühling",
        "preheader": "",
        "block_count": "0",
        "action": "save",
    }
    for index, block in enumerate(template.blocks if template else []):
        for key, value in block.items():
            data[f"b-{index}-{key}"] = value
        data["block_count"] = str(index + 1)
    data.update(overrides)
    return data


def test_marketing_and_the_owner_manage_templates_others_do_not(
    client_of, marketer, owner, agent, cashier, outsider, template
):
    for user in (marketer, owner):
        client = client_of(user)
        body = client.get(reverse("messaging:template_list")).content.decode()
        assert "Frühling" in body and "Willkommen" in body  # a German default
        overview = client.get(reverse("backoffice:overview")).content.decode()
        assert reverse("messaging:template_list") in overview  # the navigation entry
        assert client.get(reverse("messaging:template_edit", args=[template.pk])).status_code == 200
    for user in (agent, cashier, outsider):
        client = client_of(user)
        if user is agent:
            overview = client.get(reverse("backoffice:overview")).content.decode()
            assert reverse("messaging:template_list") not in overview
        assert client.get(reverse("messaging:template_list")).status_code == 403
        assert (
            client.get(reverse("messaging:template_preview", args=[template.pk])).status_code == 403
        )
        response = client.post(reverse("messaging:template_test_send", args=[template.pk]))
        assert response.status_code == 403
    assert not OutboundMessage.objects.exists()


def test_anonymous_visitors_go_to_the_login(client, template):
    response = client.get(reverse("messaging:template_edit", args=[template.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_editor_adds_moves_and_removes_blocks_without_saving(client_of, marketer, template):
    client = client_of(marketer)
    url = reverse("messaging:template_edit", args=[template.pk])
    response = client.post(url, editor_post(template, action="add", new_type="coupon"))
    assert response.status_code == 200
    assert [row.type for row in response.context["rows"]] == ["heading", "text", "button", "coupon"]
    assert "Ihr Gutscheincode:" in response.content.decode()

    response = client.post(url, editor_post(template, action="up:2"))
    assert [row.type for row in response.context["rows"]] == ["heading", "button", "text"]
    response = client.post(url, editor_post(template, action="down:0"))
    assert [row.type for row in response.context["rows"]] == ["text", "heading", "button"]
    response = client.post(url, editor_post(template, action="remove:1"))
    assert [row.type for row in response.context["rows"]] == ["heading", "button"]
    template.refresh_from_db()
    assert len(template.blocks) == 3  # nothing saved until "save"


def test_the_editor_saves_edited_fields(client_of, marketer, template):
    data = editor_post(template, **{"b-1-text": "Neu: **{{ vorname }}**", "name": "Sommer"})
    response = client_of(marketer).post(
        reverse("messaging:template_edit", args=[template.pk]), data
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Sommer" and template.blocks[1]["text"] == "Neu: **{{ vorname }}**"


def test_a_new_template_is_created_from_the_empty_editor(client_of, marketer):
    client = client_of(marketer)
    url = reverse("messaging:template_new")
    assert client.get(url).status_code == 200
    response = client.post(url, editor_post(action="add", new_type="text"))
    data = editor_post(**{"b-0-type": "text", "b-0-text": "Hallo", "block_count": "1"})
    data["name"] = "Ganz neu"
    response = client.post(url, data)
    created = MailTemplate.objects.get(name="Ganz neu")
    assert response["Location"] == reverse("messaging:template_edit", args=[created.pk])


def test_the_editor_shows_syntax_errors_in_german_and_saves_nothing(client_of, marketer, template):
    data = editor_post(template, **{"b-1-text": "Hallo\n{% include 'x.html' %}"})
    response = client_of(marketer).post(
        reverse("messaging:template_edit", args=[template.pk]), data
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Block 2, Zeile 2: den Befehl „{% include %}“ gibt es nicht" in body
    template.refresh_from_db()
    assert template.blocks[1]["text"] == "Hallo {{ vorname }}"


def test_the_editor_refuses_an_external_image(client_of, marketer, template):
    data = editor_post(
        template,
        **{"b-3-type": "image", "b-3-src": "https://fonts.example.com/x.png", "block_count": "4"},
    )
    response = client_of(marketer).post(
        reverse("messaging:template_edit", args=[template.pk]), data
    )
    assert response.status_code == 400
    assert "Bilder dürfen nur von dieser Installation" in response.content.decode()


def test_the_preview_renders_for_a_customer_picked_by_number_or_email(
    client_of, marketer, template
):
    anna = CustomerFactory(first_name="Anna", email="anna@example.de")
    client = client_of(marketer)
    url = reverse("messaging:template_preview", args=[template.pk])
    for query in (str(anna.number), "anna@example.de"):
        response = client.get(url, {"customer": query})
        assert response.context["rendered"].subject == "Frühling, Anna"
        assert "srcdoc=" in response.content.decode()
    response = client.get(url, {"customer": "niemand@example.de"})
    assert response.context["rendered"].subject == "Frühling, ihr Lieben"
    assert "Diesen Kunden gibt es nicht" in response.content.decode()


def test_the_preview_escapes_the_mail_inside_srcdoc(client_of, marketer, template):
    evil = CustomerFactory(first_name="<script>x</script>")
    body = (
        client_of(marketer)
        .get(reverse("messaging:template_preview", args=[template.pk]), {"customer": evil.number})
        .content.decode()
    )
    assert "<script>x</script>" not in body


def test_a_test_send_lands_in_the_outbox_each_time(client_of, marketer, template):
    anna = CustomerFactory(first_name="Anna")
    client = client_of(marketer)
    url = reverse("messaging:template_test_send", args=[template.pk])
    first = client.post(url, {"customer": str(anna.number)})
    assert first.status_code == 302
    client.post(url, {"customer": ""})
    mails = list(OutboundMessage.objects.order_by("id"))
    assert len(mails) == 2 and {m.to_email for m in mails} == {marketer.email}
    assert mails[0].subject == "[Test] Frühling, Anna"
    assert mails[1].subject == "[Test] Frühling, ihr Lieben"
    assert "<table" in mails[0].html_body and "Hallo Anna" in mails[0].text_body


def test_a_template_is_deleted_after_confirming(client_of, marketer, template):
    client = client_of(marketer)
    url = reverse("messaging:template_delete", args=[template.pk])
    assert client.get(url).status_code == 200
    assert MailTemplate.objects.filter(pk=template.pk).exists()
    assert client.post(url).status_code == 302
    assert not MailTemplate.objects.filter(pk=template.pk).exists()
