"""Mails of the consent part: the double opt-in confirmation, and the frame every marketing
mail gets (visible unsubscribe link, RFC 8058 one-click headers, §7(3) UWG notice)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from treu.messaging.consent_tokens import unsubscribe_token
from treu.messaging.models import Channel, Consent, LegalBasis


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def confirmation_url(token: str) -> str:
    return absolute(reverse("messaging:consent_confirm", args=[token]))


def unsubscribe_urls(customer_id: int, channel: str = Channel.EMAIL) -> dict[str, str]:
    token = unsubscribe_token(customer_id, channel)
    return {
        "page": absolute(reverse("messaging:unsubscribe", args=[token])),
        "one_click": absolute(reverse("messaging:unsubscribe_one_click", args=[token])),
        "preferences": absolute(reverse("messaging:preferences", args=[token])),
    }


def confirmation_message(consent: Consent, token: str) -> EmailMultiAlternatives:
    """The double opt-in mail: one link, no advertising (the mail itself needs no consent)."""
    context = {
        "customer": consent.customer,
        "url": confirmation_url(token),
        "valid_until": consent.token_expires_at,
        "wording": consent.wording,
    }
    with translation.override(consent.customer.language or "de"):
        subject = render_to_string("messaging/mail/confirm_subject.txt", context).strip()
        text = render_to_string("messaging/mail/confirm.txt", context)
        html = render_to_string("messaging/mail/confirm.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [consent.address])
    message.attach_alternative(html, "text/html")
    return message


def marketing_message(
    *,
    customer,
    subject: str,
    text: str,
    html: str = "",
    consent: Consent | None = None,
    channel: str = Channel.EMAIL,
) -> EmailMultiAlternatives:
    """A marketing mail with what every one must carry.

    Appends a visible unsubscribe link (and for §7(3) UWG recipients the objection notice)
    to the text and HTML parts, and sets `List-Unsubscribe` + `List-Unsubscribe-Post:
    List-Unsubscribe=One-Click` (RFC 8058), whose POST works without login or CSRF token.
    Whether the customer may get it at all is `selectors.may_send_marketing`'s call.
    """
    urls = unsubscribe_urls(customer.pk, channel)
    existing_customer = consent is not None and consent.legal_basis == LegalBasis.EXISTING_CUSTOMER
    context = {"urls": urls, "existing_customer": existing_customer}
    with translation.override(customer.language or "de"):
        text_footer = render_to_string("messaging/mail/marketing_footer.txt", context)
        html_footer = render_to_string("messaging/mail/marketing_footer.html", context)
    body = f"{text.rstrip()}\n\n{text_footer}"
    headers = {
        "List-Unsubscribe": f"<{urls['one_click']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    message = EmailMultiAlternatives(
        subject, body, settings.DEFAULT_FROM_EMAIL, [customer.email], headers=headers
    )
    if html:
        if "</body>" in html:
            html = html.replace("</body>", f"{html_footer}</body>", 1)
        else:
            html = f"{html}{html_footer}"
        message.attach_alternative(html, "text/html")
    return message


@dataclass(frozen=True)
class MarketingFrame:
    """What one customer's marketing mail carries besides its content."""

    text_footer: str
    html_footer: str
    headers: dict[str, str]

    def wrap(self, *, text: str, html: str = "") -> tuple[str, str]:
        body = f"{text.rstrip()}\n\n{self.text_footer}"
        if html:
            if "</body>" in html:
                html = html.replace("</body>", f"{self.html_footer}</body>", 1)
            else:
                html = f"{html}{self.html_footer}"
        return body, html


_PAGE, _PREFERENCES = "\x00treu-page\x00", "\x00treu-preferences\x00"


def marketing_frames(
    customers: Mapping[int, str], existing_customer_ids: set[int], channel: str = Channel.EMAIL
) -> dict[int, MarketingFrame]:
    """`marketing_message`'s frame for many customers at once ({id: language}): the footers
    are rendered once per language and basis, then each one gets its own signed links."""
    rendered: dict[tuple[str, bool], tuple[str, str]] = {}
    frames = {}
    for customer_id, language in customers.items():
        existing = customer_id in existing_customer_ids
        shape = (language or "de", existing)
        if shape not in rendered:
            context = {
                "urls": {"page": _PAGE, "preferences": _PREFERENCES},
                "existing_customer": existing,
            }
            with translation.override(shape[0]):
                rendered[shape] = (
                    render_to_string("messaging/mail/marketing_footer.txt", context),
                    render_to_string("messaging/mail/marketing_footer.html", context),
                )
        urls = unsubscribe_urls(customer_id, channel)
        text, html = rendered[shape]
        text = text.replace(_PAGE, urls["page"]).replace(_PREFERENCES, urls["preferences"])
        html = html.replace(_PAGE, escape(urls["page"])).replace(
            _PREFERENCES, escape(urls["preferences"])
        )
        frames[customer_id] = MarketingFrame(
            text_footer=text,
            html_footer=html,
            headers={
                "List-Unsubscribe": f"<{urls['one_click']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    return frames
