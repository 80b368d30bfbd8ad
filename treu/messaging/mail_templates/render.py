"""Rendering a mail template for customers: responsive HTML (table layout, max. 600 px, every
style an inline attribute written here) and a plain-text part from the same blocks.

`render_for_customers(template, ids)` reads set-based, whatever the number of customers:
one query for the names, one for points and tiers (plus the programme's point name), and
the recommendations' few queries per 2,000 customers — call it per batch of a campaign.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.template import Template

from treu.analytics import selectors as analytics_selectors
from treu.core.money import format_euro
from treu.customers import selectors as customer_selectors
from treu.loyalty import selectors as loyalty_selectors
from treu.messaging.mail_templates import blocks as b
from treu.messaging.mail_templates import engine
from treu.messaging.models import MailTemplate

FONT = "font-family:Helvetica,Arial,sans-serif;"
COLOR_TEXT = "#2b2420"
COLOR_ACCENT = "#6b3e26"
STYLE = {
    "body": "margin:0;padding:0;background-color:#f4f1ec;",
    "outer": "background-color:#f4f1ec;",
    "outer_cell": "padding:24px 12px;",
    "card": "max-width:600px;width:100%;background-color:#ffffff;border-radius:8px;",
    "cell": f"padding:12px 32px;{FONT}color:{COLOR_TEXT};",
    "heading": f"margin:0;{FONT}font-size:24px;line-height:1.3;color:{COLOR_TEXT};",
    "p": f"margin:0 0 14px 0;{FONT}font-size:16px;line-height:1.6;color:{COLOR_TEXT};",
    "a": f"color:{COLOR_ACCENT};text-decoration:underline;",
    "img": "display:block;width:100%;max-width:536px;height:auto;border:0;border-radius:6px;",
    "button": (
        f"display:inline-block;padding:12px 24px;background-color:{COLOR_ACCENT};"
        f"color:#ffffff;{FONT}font-size:16px;font-weight:bold;text-decoration:none;"
        "border-radius:6px;"
    ),
    "box": (
        "background-color:#f8efe6;border:1px dashed #b07a52;border-radius:6px;padding:16px;"
        "text-align:center;"
    ),
    "code": f"{FONT}font-size:22px;font-weight:bold;letter-spacing:2px;color:{COLOR_ACCENT};",
    "product": f"padding:8px 0;border-bottom:1px solid #eee3d8;{FONT}font-size:16px;",
    "price": (
        f"padding:8px 0;border-bottom:1px solid #eee3d8;{FONT}font-size:16px;text-align:right;"
    ),
    "subheading": f"margin:0 0 8px 0;{FONT}font-size:18px;color:{COLOR_TEXT};",
    "placeholder": (
        f"padding:40px 16px;background-color:#eee3d8;text-align:center;{FONT}color:#7a6a5e;"
    ),
    "footer": f"padding:16px 32px 24px 32px;{FONT}font-size:13px;color:#7a6a5e;",
    "preheader": (
        "display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;color:#f4f1ec;"
    ),
}


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    preheader: str
    html: str
    text: str


@dataclass
class CustomerData:
    """What a mail may say about one customer (plain values only: the sandbox's context)."""

    first_name: str = ""
    last_name: str = ""
    points: int | None = None
    tier: str = ""
    products: list = field(default_factory=list)  # analytics' Recommendation

    def context(self, shared: Mapping[str, object]) -> dict[str, object]:
        return {
            **shared,
            "vorname": self.first_name,
            "nachname": self.last_name,
            "anrede": f"Hallo {self.first_name}" if self.first_name else "Hallo",
            "punkte": "" if self.points is None else self.points,
            "stufe": self.tier,
        }


def shop_name() -> str:
    name = getattr(settings, "TREU_SHOP_NAME", "")
    if name:
        return name
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.split("<", 1)[0].strip().strip('"') if "<" in sender else ""


class CompiledMail:
    """A template's pieces compiled once, rendered for any number of customers."""

    def __init__(self, mail_template: MailTemplate):
        self.template = mail_template
        self.subject = engine.compile_source(" ".join(mail_template.subject.split()))
        self.preheader = engine.compile_source(" ".join(mail_template.preheader.split()))
        self.blocks = [self._compile(block) for block in mail_template.blocks]

    @cached_property
    def product_count(self) -> int:
        return max(
            (blk["count"] for blk in self.template.blocks if blk["type"] == b.PRODUCTS), default=0
        )

    @staticmethod
    def _compile(block: dict) -> dict[str, Template | dict]:
        compiled: dict = {"block": block}
        for name in b.personalised_fields(block):
            source = block[name]
            if block["type"] == b.TEXT or (block["type"] in (b.COUPON, b.POINTS)):
                html_source = b.text_to_html_source(
                    source, paragraph_style=STYLE["p"], link_style=STYLE["a"]
                )
            else:
                html_source = b.inline_to_html_source(source)
            compiled[f"{name}_html"] = engine.compile_source(html_source)
            compiled[f"{name}_text"] = engine.compile_source(b.text_to_text_source(source))
        return compiled

    def render(self, context: dict[str, object], products: list) -> RenderedMail:
        subject = engine.render(self.subject, context, autoescape=False).strip()
        subject = subject or self.template.name
        preheader = engine.render(self.preheader, context, autoescape=False).strip()
        html_rows: list[str] = []
        text_parts: list[str] = []
        for compiled in self.blocks:
            row = _render_block(compiled, context, products)
            if row is not None:
                html_rows.append(row[0])
                text_parts.append(row[1])
        shop = str(context.get("shopname") or "")
        footer_html = (
            f'<tr><td style="{STYLE["footer"]}">{html.escape(shop)}</td></tr>' if shop else ""
        )
        # A line break between the parts: mail lines must stay under 998 characters (RFC
        # 5322), or the HTML part goes out quoted-printable, encoded in pure Python.
        page = "\n".join(
            [
                '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                '<meta name="x-apple-disable-message-reformatting">',
                f"<title>{html.escape(subject)}</title></head>",
                f'<body style="{STYLE["body"]}">',
                f'<div style="{STYLE["preheader"]}">{html.escape(preheader)}</div>',
                '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
                f'border="0" style="{STYLE["outer"]}">',
                f'<tr><td align="center" style="{STYLE["outer_cell"]}">',
                '<table role="presentation" width="600" cellpadding="0" cellspacing="0" '
                f'border="0" style="{STYLE["card"]}">',
                '<tr><td style="height:20px;line-height:20px;font-size:1px;">&nbsp;</td></tr>',
                *html_rows,
                footer_html,
                "</table></td></tr></table></body></html>",
            ]
        )
        text = "\n\n".join(part.strip() for part in text_parts if part.strip())
        if shop:
            text = f"{text}\n\n-- \n{shop}"
        return RenderedMail(subject, preheader, page, text + "\n")


def _row(content: str) -> str:
    return f'<tr><td style="{STYLE["cell"]}">{content}</td></tr>'


def _render_block(compiled: dict, context: dict, products: list) -> tuple[str, str] | None:
    block = compiled["block"]
    kind = block["type"]

    def both(name: str) -> tuple[str, str]:
        return (
            engine.render(compiled[f"{name}_html"], context),
            engine.render(compiled[f"{name}_text"], context, autoescape=False),
        )

    if kind == b.HEADING:
        heading, text = both("text")
        return _row(f'<h1 style="{STYLE["heading"]}">{heading}</h1>'), text.upper()
    if kind == b.TEXT:
        return _row(both("text")[0]), both("text")[1]
    if kind == b.BUTTON:
        label, text = both("label")
        url = b.absolute_url(block["url"])
        button = (
            '<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td>'
            f'<a href="{html.escape(url)}" style="{STYLE["button"]}">{label}</a>'
            "</td></tr></table>"
        )
        return _row(button), f"{text}: {url}"
    if kind == b.IMAGE:
        alt = html.escape(block["alt"])
        if not block["src"]:
            # Uploaded later: a placeholder box, never an address of anyone else.
            return _row(f'<div style="{STYLE["placeholder"]}">{alt or "&nbsp;"}</div>'), ""
        image = (
            f'<img src="{html.escape(b.absolute_url(block["src"]))}" alt="{alt}" width="536" '
            f'style="{STYLE["img"]}">'
        )
        if block["url"]:
            image = f'<a href="{html.escape(b.absolute_url(block["url"]))}">{image}</a>'
        return _row(image), f"[{block['alt']}]" if block["alt"] else ""
    if kind == b.PRODUCTS:
        shown = products[: block["count"]]
        if not shown:
            return None
        title, title_text = both("title")
        rows = "\n".join(
            f'<tr><td style="{STYLE["product"]}">{html.escape(r.product.name)}</td>'
            f'<td style="{STYLE["price"]}">'
            f"{html.escape(format_euro(r.product.price_cents))}</td></tr>"
            for r in shown
        )
        content = (
            (f'<h2 style="{STYLE["subheading"]}">{title}</h2>' if title else "")
            + '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
            + 'border="0">\n'
            + rows
            + "\n</table>"
        )
        lines = [f"- {r.product.name} ({format_euro(r.product.price_cents)})" for r in shown]
        return _row(content), "\n".join([title_text, *lines]).strip()
    if kind == b.COUPON:
        code = str(context.get(b.COUPON_VARIABLE) or "")
        if not code:
            return None  # a campaign that gives no code shows no empty coupon
        intro, intro_text = both("text")
        box = (
            f'<div style="{STYLE["box"]}">{intro}'
            f'<div style="{STYLE["code"]}">{html.escape(code)}</div></div>'
        )
        return _row(box), f"{intro_text}\n{code}"
    if kind == b.POINTS:
        if context.get("punkte") in ("", None):
            return None  # not a member: nothing to show
        body, text = both("text")
        return _row(f'<div style="{STYLE["box"]}">{body}</div>'), text
    return None


def shared_context(extra: Mapping[str, object] | None = None) -> dict[str, object]:
    program = loyalty_selectors.program_settings()
    context: dict[str, object] = {"punktename": program.point_name, "shopname": shop_name()}
    for key, value in (extra or {}).items():
        if key in engine.VARIABLES and isinstance(value, str | int):
            context[key] = value
    return context


def customer_data(customer_ids: Iterable[int], *, products: int = 0) -> dict[int, CustomerData]:
    """What the mails say about these customers: set-based, a constant number of queries."""
    ids = list(dict.fromkeys(int(i) for i in customer_ids))
    rows = (
        customer_selectors.segmentable_customers()
        .filter(pk__any_of=ids)
        .values_list("pk", "first_name", "last_name")
        .order_by()
    )
    data = {pk: CustomerData(first, last) for pk, first, last in rows}
    for customer_id, balance in loyalty_selectors.balances_for_customers(list(data)).items():
        data[customer_id].points = balance.points
        data[customer_id].tier = balance.tier
    if products and data:
        for customer_id, recommended in analytics_selectors.recommendations_for_customers(
            list(data), limit=products
        ).items():
            data[customer_id].products = recommended
    return data


def render_for_customers(
    mail_template: MailTemplate,
    customer_ids: Iterable[int],
    *,
    extra: Mapping[str, object] | None = None,
    per_customer: Mapping[int, Mapping[str, object]] | None = None,
) -> dict[int, RenderedMail]:
    """The mail for each customer (erased or unknown ids get none).

    `extra`: values the campaign fills for everyone (e.g. `gutschein`); `per_customer`:
    values per customer id (e.g. each one's own coupon code).
    """
    compiled = CompiledMail(mail_template)
    shared = shared_context(extra)
    data = customer_data(customer_ids, products=compiled.product_count)
    result = {}
    for customer_id, customer in data.items():
        context = customer.context(shared)
        if per_customer and customer_id in per_customer:
            context.update(
                {
                    k: v
                    for k, v in per_customer[customer_id].items()
                    if k in engine.VARIABLES and isinstance(v, str | int)
                }
            )
        result[customer_id] = compiled.render(context, customer.products)
    return result


def render_for_customer(
    mail_template: MailTemplate, customer_id: int, *, extra: Mapping[str, object] | None = None
) -> RenderedMail | None:
    return render_for_customers(mail_template, [customer_id], extra=extra).get(customer_id)


def render_sample(
    mail_template: MailTemplate, *, extra: Mapping[str, object] | None = None
) -> RenderedMail:
    """Rendered for nobody in particular: every personal variable falls back."""
    compiled = CompiledMail(mail_template)
    return compiled.render(CustomerData().context(shared_context(extra)), [])
