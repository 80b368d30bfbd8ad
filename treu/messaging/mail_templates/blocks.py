"""The blocks of a mail template: their fields, validation, and the small text markup.

A block is a dict with a "type" and that type's fields. Texts are plain text with blank
lines between paragraphs, `**bold**` and `[label](URL)` links; whatever else looks like HTML
is shown as text. Personalisation (`{{ vorname|default:"…" }}`) is sandboxed Django template
syntax (see `engine`); the markup is applied to the staff's text *before* the variables are
filled in, so a customer's name can never add a link, bold text or HTML.

Rule for addresses: an image comes only from this installation (SITE_URL, or a path on it),
never from another host: no mail treu renders makes a request to a third party. Links may
also go to the online shop: `shop:/path` is the path on `TREU_SHOP_URL` (SITE_URL when
unset), and a full address on the shop's host is allowed too; and to `mailto:`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.messaging.mail_templates import engine

HEADING, TEXT, IMAGE, BUTTON, PRODUCTS, COUPON, POINTS = (
    "heading", "text", "image", "button", "products", "coupon", "points",
)  # fmt: skip

# type → (label, fields); a field is (name, label, kind, max length)
BLOCK_TYPES: dict[str, tuple] = {
    HEADING: (gettext_lazy("Heading"), [("text", gettext_lazy("Heading"), "line", 200)]),
    TEXT: (gettext_lazy("Text"), [("text", gettext_lazy("Text"), "text", 5000)]),
    IMAGE: (
        gettext_lazy("Image"),
        [
            ("src", gettext_lazy("Image address"), "url", 500),
            ("alt", gettext_lazy("Description (alt text)"), "plain", 200),
            ("url", gettext_lazy("Link (optional)"), "url", 500),
        ],
    ),
    BUTTON: (
        gettext_lazy("Button"),
        [
            ("label", gettext_lazy("Label"), "line", 80),
            ("url", gettext_lazy("Link"), "url", 500),
        ],
    ),
    PRODUCTS: (
        gettext_lazy("Product recommendations"),
        [
            ("title", gettext_lazy("Heading"), "line", 200),
            ("count", gettext_lazy("Number of products"), "count", 0),
        ],
    ),
    COUPON: (gettext_lazy("Coupon"), [("text", gettext_lazy("Text above the code"), "text", 1000)]),
    POINTS: (gettext_lazy("Points balance"), [("text", gettext_lazy("Text"), "text", 1000)]),
}

# What a new block of each type starts with.
NEW_BLOCK: dict[str, dict] = {
    HEADING: {"text": ""},
    TEXT: {"text": ""},
    IMAGE: {"src": "", "alt": "", "url": ""},
    BUTTON: {"label": "", "url": "/"},
    PRODUCTS: {"title": "Das könnte Ihnen auch schmecken", "count": 3},
    COUPON: {"text": "Ihr Gutscheincode:"},
    POINTS: {"text": "Sie haben {{ punkte }} {{ punktename }} gesammelt."},
}

MAX_BLOCKS = 40
MAX_PRODUCTS = 6
# The variables a campaign fills; the coupon block shows the code from this one.
COUPON_VARIABLE = "gutschein"

_TAG = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#})", re.S)
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_PARAGRAPHS = re.compile(r"\n[ \t]*\n+")


@dataclass
class Cleaned:
    blocks: list[dict]
    errors: list[str]


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def shop_url() -> str:
    return (getattr(settings, "TREU_SHOP_URL", "") or site_url()).rstrip("/")


def absolute_url(url: str) -> str:
    """A path on this installation or `shop:/path` made absolute; anything else as it is."""
    if url.startswith("shop:"):
        path = url.removeprefix("shop:")
        return f"{shop_url()}/{path.lstrip('/')}" if path.strip("/") else f"{shop_url()}/"
    if url.startswith("/") and not url.startswith("//"):
        return f"{site_url()}{url}"
    return url


def image_problem(src: str) -> str | None:
    if not src or (src.startswith("/") and not src.startswith("//")):
        return None
    parts = urlsplit(src)
    if parts.scheme in ("http", "https") and _host(src) == _host(site_url()):
        return None
    return _(
        "Images may only come from this installation (%(site)s), not from “%(host)s”: "
        "no mail may make a request to another host. Upload the image here and use its address."
    ) % {"site": site_url(), "host": parts.hostname or src}


def link_problem(url: str) -> str | None:
    if url.startswith("shop:"):
        url = absolute_url(url)
    if url.startswith("/") and not url.startswith("//"):
        return None
    if url.startswith("mailto:") and "@" in url:
        return None
    parts = urlsplit(url)
    allowed = {_host(site_url()), _host(shop_url())}
    if parts.scheme in ("http", "https") and parts.hostname and parts.hostname.lower() in allowed:
        return None
    return _(
        "The link “%(url)s” is not allowed: use a path on this installation (starting with /), "
        "shop:/path for the online shop, an address on %(hosts)s or mailto:."
    ) % {"url": url, "hosts": ", ".join(sorted(allowed))}


def _protect(source: str) -> tuple[str, list[str]]:
    """Template tags replaced by markers that no escaping or markup touches."""
    saved: list[str] = []

    def keep(match: re.Match) -> str:
        saved.append(match.group(0))
        return f"\x00{len(saved) - 1}\x00"

    return _TAG.sub(keep, source), saved


def _restore(text: str, saved: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: saved[int(m.group(1))], text)


def markup_links(source: str) -> list[str]:
    protected, _saved = _protect(source)
    return [match.group(2) for match in _LINK.finditer(protected)]


def text_to_html_source(source: str, *, paragraph_style: str, link_style: str) -> str:
    """The staff's text as template source that renders HTML: text escaped, markup applied."""
    protected, saved = _protect(source.replace("\r\n", "\n").strip())
    escaped = html.escape(protected, quote=True)

    def link(match: re.Match) -> str:
        return (
            f'<a href="{html.escape(absolute_url(html.unescape(match.group(2))), quote=True)}" '
            f'style="{link_style}">{match.group(1)}</a>'
        )

    escaped = _LINK.sub(link, escaped)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    paragraphs = [p for p in _PARAGRAPHS.split(escaped) if p.strip()]
    body = "\n".join(
        f'<p style="{paragraph_style}">{p.strip().replace(chr(10), "<br>" + chr(10))}</p>'
        for p in paragraphs
    )
    return _restore(body, saved)


def inline_to_html_source(source: str) -> str:
    """A one-line text (heading, label) as HTML template source: escaped, no markup."""
    protected, saved = _protect(" ".join(source.split()))
    return _restore(html.escape(protected, quote=True), saved)


def text_to_text_source(source: str) -> str:
    """The staff's text as template source for the plain-text part."""
    protected, saved = _protect(source.replace("\r\n", "\n").strip())
    protected = _LINK.sub(lambda m: f"{m.group(1)} ({absolute_url(m.group(2))})", protected)
    protected = _BOLD.sub(r"\1", protected)
    return _restore(protected, saved)


def personalised_fields(block: dict) -> list[str]:
    """The fields of a block that hold personalisation (compiled at save)."""
    _label, fields = BLOCK_TYPES[block["type"]]
    return [name for name, _l, kind, _m in fields if kind in ("line", "text")]


def clean_blocks(raw: object) -> Cleaned:
    """Validate a list of blocks: German errors naming the block number, nothing half-kept."""
    errors: list[str] = []
    if not isinstance(raw, list):
        return Cleaned([], [_("The blocks must be a list.")])
    if len(raw) > MAX_BLOCKS:
        errors.append(_("A template holds at most %(n)s blocks.") % {"n": MAX_BLOCKS})
    cleaned: list[dict] = []
    for number, block in enumerate(raw, start=1):
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            errors.append(_("Block %(n)s: unknown kind of block.") % {"n": number})
            continue
        kind = block["type"]
        _label, fields = BLOCK_TYPES[kind]
        out: dict = {"type": kind}
        for name, label, field_kind, max_length in fields:
            value = block.get(name, NEW_BLOCK[kind].get(name, ""))
            if field_kind == "count":
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    value = 0
                if not 1 <= value <= MAX_PRODUCTS:
                    errors.append(
                        _("Block %(n)s: show 1 to %(max)s products.")
                        % {"n": number, "max": MAX_PRODUCTS}
                    )
                out[name] = value
                continue
            value = str(value or "").strip()
            if len(value) > max_length:
                errors.append(
                    _("Block %(n)s: “%(field)s” may have at most %(max)s characters.")
                    % {"n": number, "field": label, "max": max_length}
                )
            out[name] = value
        errors.extend(_block_problems(number, out))
        cleaned.append(out)
    return Cleaned(cleaned, errors)


def _block_problems(number: int, block: dict) -> list[str]:
    problems: list[str] = []
    kind = block["type"]
    prefix = _("Block %(n)s") % {"n": number}
    if kind in (HEADING, TEXT) and not block["text"]:
        problems.append(_("%(block)s: the text is empty.") % {"block": prefix})
    if kind == BUTTON:
        if not block["label"]:
            problems.append(_("%(block)s: the button needs a label.") % {"block": prefix})
        if not block["url"]:
            problems.append(_("%(block)s: the button needs a link.") % {"block": prefix})
    for field in ("src", "url"):
        if block.get(field) and "{" in block[field]:
            problems.append(_("%(block)s: addresses cannot hold variables.") % {"block": prefix})
    if kind == IMAGE and block["src"] and (problem := image_problem(block["src"])):
        problems.append(f"{prefix}: {problem}")
    links = [link for field in personalised_fields(block) for link in markup_links(block[field])]
    for url in links:
        if "\x00" in url or "{" in url:
            problems.append(_("%(block)s: addresses cannot hold variables.") % {"block": prefix})
        elif problem := link_problem(url):
            problems.append(f"{prefix}: {problem}")
    url = block.get("url", "")
    if url and "{" not in url and (problem := link_problem(url)):
        problems.append(f"{prefix}: {problem}")
    for field in personalised_fields(block):
        if problem := engine.check(block[field]):
            problems.append(
                _("%(block)s, line %(line)s: %(reason)s.")
                % {"block": prefix, "line": problem.line, "reason": problem.reason}
            )
    return problems


def check_line(label: str, source: str) -> str | None:
    """A German error for the subject or preheader, or None."""
    if problem := engine.check(source):
        return _("%(field)s, line %(line)s: %(reason)s.") % {
            "field": label,
            "line": problem.line,
            "reason": problem.reason,
        }
    return None
