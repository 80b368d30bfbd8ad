"""Mail templates: blocks, the sandbox, rendering (HTML + text), the batch renderer, defaults."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from treu.analytics.recommendations.models import BestSeller
from treu.commerce.tests.factories import ProductFactory
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty.models import Member, ProgramSettings
from treu.messaging import services
from treu.messaging.mail_templates import blocks as b
from treu.messaging.mail_templates import engine
from treu.messaging.mail_templates.defaults import DEFAULT_TEMPLATES
from treu.messaging.mail_templates.render import (
    CompiledMail,
    CustomerData,
    render_for_customer,
    render_for_customers,
    render_sample,
)
from treu.messaging.models import MailTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://treu.example"
    settings.TREU_SHOP_URL = ""
    settings.TREU_SHOP_NAME = ""
    settings.DEFAULT_FROM_EMAIL = "Rösterei Bohne <hallo@treu.example>"


EVERY_BLOCK = [
    {"type": "heading", "text": 'Hallo {{ vorname|default:"liebe Kundin, lieber Kunde" }}'},
    {
        "type": "text",
        "text": "Schön, dass Sie da sind, **{{ vorname }}**.\n\n[Zum Shop](shop:/neu)",
    },
    {"type": "image", "src": "/media/bohnen.jpg", "alt": "Bohnen", "url": "/"},
    {"type": "image", "src": "", "alt": "Bild folgt", "url": ""},
    {"type": "button", "label": "Jetzt ansehen", "url": "shop:/"},
    {"type": "products", "title": "Für Sie", "count": 2},
    {"type": "coupon", "text": "Ihr Code:"},
    {
        "type": "points",
        "text": 'Sie haben {{ punkte }} {{ punktename }} ({{ stufe|default:"ohne Stufe" }}).',
    },
]


def make_template(blocks=None, **fields) -> MailTemplate:
    return services.save_mail_template(
        name=fields.get("name", "Test"),
        kind=fields.get("kind", "marketing"),
        subject=fields.get("subject", 'Hallo {{ vorname|default:"du" }}'),
        preheader=fields.get("preheader", "Neu: {{ shopname }}"),
        blocks=EVERY_BLOCK if blocks is None else blocks,
    )


def errors_of(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(services.MailTemplateError) as caught:
        make_template(**kwargs)
    return caught.value.message_dict


# -- Saving: validation ------------------------------------------------------------------------


def test_it_saves_every_kind_of_block_as_validated_json():
    template = make_template()
    template.refresh_from_db()
    assert [blk["type"] for blk in template.blocks] == [blk["type"] for blk in EVERY_BLOCK]
    assert template.blocks[5]["count"] == 2 and template.edited_at is not None


def test_it_refuses_a_syntax_error_with_block_line_and_reason_in_german():
    blocks = [
        {"type": "heading", "text": "Hallo"},
        {"type": "text", "text": "Zeile eins\nZeile zwei {% if vorname %}ohne Ende"},
    ]
    errors = errors_of(blocks=blocks)["blocks"]
    assert errors == ["Block 2, Zeile 2: „{% if %}“ wird nie geschlossen."]
    assert not MailTemplate.objects.filter(name="Test").exists()


def test_it_refuses_a_syntax_error_in_the_subject():
    errors = errors_of(subject="Hallo {{ vorname|frei }}")["subject"]
    assert errors == [
        "Betreff, Zeile 1: den Filter „frei“ gibt es nicht oder er ist hier nicht erlaubt."
    ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{% load static %}", "„{% load %}“"),
        ("{% include 'backoffice/base.html' %}", "„{% include %}“"),
        ("{% extends 'backoffice/base.html' %}", "„{% extends %}“"),
        ("{% debug %}", "„{% debug %}“"),
        ("{% url 'backoffice:login' %}", "„{% url %}“"),
        ("{{ vorname|safe }}", "„safe“"),
        ("{{ vorname.__class__ }}", "Unterstrich"),
        ("{{ punkte|stringformat:'0999999999d' }}", "„stringformat“"),
    ],
)
def test_the_sandbox_refuses_tags_and_filters_that_reach_beyond_the_context(source, reason):
    errors = errors_of(blocks=[{"type": "text", "text": source}])["blocks"]
    assert len(errors) == 1 and errors[0].startswith("Block 1, Zeile 1:") and reason in errors[0]


def test_the_sandbox_sees_nothing_but_the_context_dict(settings):
    settings.SECRET_KEY = "geheim-1234"  # noqa: S105
    template = make_template(
        blocks=[
            {
                "type": "text",
                "text": "[{{ settings.SECRET_KEY }}|{{ request.user }}|{{ vorname.upper }}]",
            }
        ]
    )
    anna = CustomerFactory(first_name="Anna")
    mail = render_for_customer(template, anna.pk)
    assert "geheim" not in mail.html and "geheim" not in mail.text
    assert "[||ANNA]" in mail.text


def test_it_refuses_an_external_image_url_in_german():
    errors = errors_of(blocks=[{"type": "image", "src": "https://fremd.invalid/a.png", "alt": ""}])
    assert errors["blocks"] == [
        "Block 1: Bilder dürfen nur von dieser Installation (https://treu.example) kommen, "
        "nicht von „fremd.invalid“: Keine E-Mail darf eine Anfrage an einen anderen Host "
        "stellen. Laden Sie das Bild hier hoch und verwenden Sie seine Adresse."
    ]


def test_it_refuses_protocol_relative_and_data_image_urls():
    for src in (
        "//fremd.invalid/a.png",
        "data:image/png;base64,AAA",
        "https://treu.example.evil.de/x.png",
    ):
        assert "Bilder dürfen nur" in errors_of(blocks=[{"type": "image", "src": src}])["blocks"][0]


def test_it_refuses_links_to_other_hosts_and_variables_in_addresses():
    blocks = [
        {"type": "button", "label": "Los", "url": "https://tracker.example.net/x"},
        {"type": "text", "text": "[hier](https://tracker.example.net/y)"},
        {"type": "button", "label": "Los", "url": "/{{ vorname }}"},
    ]
    errors = errors_of(blocks=blocks)["blocks"]
    assert errors[0].startswith(
        "Block 1: Der Link „https://tracker.example.net/x“ ist nicht erlaubt"
    )
    assert errors[1].startswith("Block 2: Der Link „https://tracker.example.net/y“")
    assert errors[2] == "Block 3: Adressen können keine Variablen enthalten."


def test_links_to_the_configured_shop_are_allowed(settings):
    settings.TREU_SHOP_URL = "https://shop.example.de"
    template = make_template(
        blocks=[{"type": "button", "label": "Los", "url": "https://shop.example.de/x"}]
    )
    assert 'href="https://shop.example.de/x"' in render_sample(template).html


def test_it_refuses_empty_fields_unknown_blocks_and_bad_counts_all_at_once():
    blocks = [
        {"type": "heading", "text": " "},
        {"type": "video"},
        {"type": "products", "title": "", "count": 9},
        {"type": "button", "label": "", "url": ""},
    ]
    errors = errors_of(name=" ", subject="", blocks=blocks)
    assert errors["name"] == ["Die Vorlage braucht einen Namen."]
    assert errors["subject"] == ["Der Betreff ist leer."]
    assert errors["blocks"] == [
        "Block 1: Der Text ist leer.",
        "Block 2: unbekannte Art von Block.",
        "Block 3: 1 bis 6 Produkte anzeigen.",
        "Block 4: Der Button braucht eine Beschriftung.",
        "Block 4: Der Button braucht einen Link.",
    ]


def test_a_template_without_blocks_is_refused():
    assert errors_of(blocks=[])["blocks"] == ["Fügen Sie mindestens einen Block hinzu."]


def test_a_failed_change_leaves_the_stored_template_as_it_was():
    template = make_template()
    with pytest.raises(services.MailTemplateError):
        services.save_mail_template(
            mail_template=template,
            name="Neu",
            kind="marketing",
            subject="x {% if %}",
            blocks=EVERY_BLOCK,
        )
    template.refresh_from_db()
    assert template.name == "Test"


# -- Rendering ---------------------------------------------------------------------------------


def test_a_missing_first_name_renders_the_fallback():
    template = make_template()
    nameless = CustomerFactory(first_name="", last_name="")
    mail = render_for_customer(template, nameless.pk)
    assert mail.subject == "Hallo du"
    assert "Hallo liebe Kundin, lieber Kunde" in mail.html
    assert "Schön, dass Sie da sind, <strong></strong>." in mail.html  # no fallback: empty


def test_unknown_variables_render_empty_never_an_error():
    template = make_template(
        blocks=[{"type": "text", "text": "A{{ gibtsnicht }}B{{ punkte|date:'Y' }}C"}]
    )
    mail = render_for_customer(template, CustomerFactory().pk)
    assert "ABC" in mail.text


def test_a_customer_named_script_is_escaped_in_the_html():
    template = make_template()
    evil = CustomerFactory(
        first_name="<script>alert(1)</script>", last_name="**x** [a](https://evil.example)"
    )
    mail = render_for_customer(template, evil.pk)
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    # Their name is a name in the text part too, and never markup.
    template2 = make_template(blocks=[{"type": "text", "text": "{{ nachname }}"}])
    mail2 = render_for_customer(template2, evil.pk)
    assert "evil.example" not in re.findall(r'href="([^"]*)"', mail2.html)
    assert "**x** [a](https://evil.example)" in mail2.text


def test_staff_html_in_a_text_is_shown_as_text():
    template = make_template(blocks=[{"type": "text", "text": "<b>fett</b> & <img src=x>"}])
    html = render_sample(template).html
    assert "&lt;b&gt;fett&lt;/b&gt; &amp; &lt;img src=x&gt;" in html and "<img src=x>" not in html


def test_markup_makes_bold_links_and_paragraphs():
    template = make_template(blocks=[{"type": "text", "text": "Eins **zwei**\ndrei\n\n[Shop](/s)"}])
    mail = render_sample(template)
    assert "<strong>zwei</strong><br>\ndrei</p>" in mail.html
    assert 'href="https://treu.example/s"' in mail.html
    assert "Eins zwei\ndrei\n\nShop (https://treu.example/s)" in mail.text


def test_the_html_is_a_responsive_table_layout_with_inline_styles_only():
    mail = render_sample(make_template())
    assert "max-width:600px" in mail.html and '<table role="presentation"' in mail.html
    assert "<style" not in mail.html and "<link" not in mail.html and "class=" not in mail.html
    assert '<meta name="viewport"' in mail.html


def test_the_html_refers_to_no_host_but_the_site(settings):
    ProgramSettings.objects.create(pk=1, point_name="Bohnen")
    product = ProductFactory(name="Espresso")
    BestSeller.objects.create(product=product, rank=1, orders=3, units=4)
    anna = CustomerFactory(first_name="Anna")
    Member.objects.create(customer=anna, joined_at=timezone.now(), points_balance=120)
    mail = render_for_customer(make_template(), anna.pk, extra={"gutschein": "HALLO10"})
    urls = re.findall(r'(?:href|src)="([^"]*)"', mail.html)
    assert len(urls) == 4  # the text's link, the image and its link, the button
    assert {urlsplit(url).netloc for url in urls} == {"treu.example"}
    assert "url(" not in mail.html and "@import" not in mail.html


def test_every_block_renders_in_html_and_in_the_plain_text_part():
    ProgramSettings.objects.create(pk=1, point_name="Bohnen")
    product = ProductFactory(name="Espresso Napoli", price_cents=1290)
    BestSeller.objects.create(product=product, rank=1, orders=3, units=4)
    anna = CustomerFactory(first_name="Anna")
    Member.objects.create(customer=anna, joined_at=timezone.now(), points_balance=120)
    mail = render_for_customer(make_template(), anna.pk, extra={"gutschein": "HALLO10"})
    for text in (
        "HALLO ANNA",
        "Schön, dass Sie da sind, Anna.",
        "Zum Shop (https://treu.example/neu)",
        "[Bohnen]",
        "Jetzt ansehen: https://treu.example/",
        "Für Sie",
        "- Espresso Napoli (12,90\xa0€)",
        "Ihr Code:\nHALLO10",
        "Sie haben 120 Bohnen (ohne Stufe).",
    ):
        assert text in mail.text, text
    for html in (
        'src="https://treu.example/media/bohnen.jpg"',
        "Bild folgt",
        "Espresso Napoli",
        "12,90\xa0€",
        "HALLO10",
        "120 Bohnen",
    ):
        assert html in mail.html, html
    assert mail.preheader == "Neu: Rösterei Bohne"


def test_blocks_without_data_are_left_out():
    nobody = CustomerFactory(first_name="Ben")  # no member, no recommendations, no coupon
    mail = render_for_customer(make_template(), nobody.pk)
    assert (
        "Ihr Code" not in mail.text and "Sie haben" not in mail.text and "Für Sie" not in mail.text
    )


def test_an_erased_customer_gets_no_mail():
    erased = CustomerFactory(erased_at=timezone.now())
    assert render_for_customers(make_template(), [erased.pk]) == {}


def test_rendering_never_raises_for_any_name():
    template = make_template()
    compiled = CompiledMail(template)

    @hsettings(max_examples=60, deadline=None)
    @given(first=st.text(max_size=40), last=st.text(max_size=40))
    def check(first, last):
        mail = compiled.render(CustomerData(first, last).context({"shopname": "x"}), [])
        assert mail.subject and mail.text and "<script" not in mail.html.replace("&lt;script", "")
        assert not re.search(r'(?:href|src)="(?!https://treu.example)', mail.html)

    check()


# -- The batch renderer ------------------------------------------------------------------------


def _queries_for(template, ids) -> int:
    with CaptureQueriesContext(connection) as queries:
        mails = render_for_customers(template, ids, extra={"gutschein": "X"})
    assert set(mails) == set(ids)
    return len(queries)


def test_the_batch_renderer_reads_with_a_constant_number_of_queries():
    ProgramSettings.objects.create(pk=1, point_name="Bohnen")
    for rank in range(1, 4):
        BestSeller.objects.create(product=ProductFactory(), rank=rank, orders=1, units=1)
    template = make_template()
    few = [c.pk for c in CustomerFactory.create_batch(3)]
    many = [c.pk for c in CustomerFactory.create_batch(40)]
    for customer_id in many[::2]:
        Member.objects.create(customer_id=customer_id, joined_at=timezone.now(), points_balance=5)
    # Names 1, programme settings 1, points 1, recommendations 5 (products, best sellers,
    # erased, related, owned) — whatever the number of customers.
    assert _queries_for(template, few) == _queries_for(template, many) == 8


def test_the_batch_renderer_personalises_each_customer():
    anna, ben = CustomerFactory(first_name="Anna"), CustomerFactory(first_name="Ben")
    mails = render_for_customers(make_template(), [anna.pk, ben.pk])
    assert mails[anna.pk].subject == "Hallo Anna" and mails[ben.pk].subject == "Hallo Ben"


# -- Defaults ----------------------------------------------------------------------------------


def test_the_german_defaults_exist_after_migrate_and_all_validate():
    keys = set(MailTemplate.objects.exclude(default_key="").values_list("default_key", flat=True))
    assert keys == {d["key"] for d in DEFAULT_TEMPLATES} and len(keys) == 11
    for default in DEFAULT_TEMPLATES:
        services.validate_mail_template(
            name=default["name"], kind=default["kind"], subject=default["subject"],
            preheader=default["preheader"], blocks=default["blocks"],
        )  # fmt: skip
        template = MailTemplate.objects.get(default_key=default["key"])
        mail = render_sample(template, extra={"gutschein": "GEBURTSTAG"})
        assert mail.subject and mail.text.strip() and "{" not in mail.text


def test_an_edited_default_is_never_overwritten_an_unedited_one_is_updated():
    welcome = MailTemplate.objects.get(default_key="welcome")
    services.save_mail_template(
        mail_template=welcome, name="Mein Willkommen", kind="marketing", subject="Hi",
        blocks=[{"type": "text", "text": "Eigener Text"}],
    )  # fmt: skip
    MailTemplate.objects.filter(default_key="sunset").update(subject="alt")
    MailTemplate.objects.filter(default_key="birthday").delete()
    assert services.ensure_default_mail_templates() == 2
    welcome.refresh_from_db()
    assert welcome.name == "Mein Willkommen" and welcome.blocks == [
        {"type": "text", "text": "Eigener Text"}
    ]
    assert (
        MailTemplate.objects.get(default_key="sunset").subject
        == "Sollen wir Ihnen weiter schreiben?"
    )
    assert MailTemplate.objects.filter(default_key="birthday").exists()
    assert services.ensure_default_mail_templates() == 0


def test_a_welcome_mail_reads_personal_with_a_name_and_friendly_without():
    welcome = MailTemplate.objects.get(default_key="welcome")
    anna = CustomerFactory(first_name="Anna")
    assert render_for_customer(welcome, anna.pk).subject == "Schön, dass Sie da sind, Anna!"
    assert "Willkommen, liebe Kundin, lieber Kunde!" in render_sample(welcome).html


def test_engine_check_reports_lines():
    problem = engine.check("eins\nzwei\n{% for x in y %}")
    assert problem is not None and problem.line == 3
    assert b.check_line("Betreff", "ok {{ vorname }}") is None
