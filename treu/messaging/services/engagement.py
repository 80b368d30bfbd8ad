"""Clicks and opens of marketing mails, measured on this installation only.

At enqueue time a marketing mail's links are rewritten to `/m/c/<token>/` on this
installation: the token is signed (Django signing) and names the outbox row's key and the
original URL, so the redirect can lead only where treu itself wrote a link — no open
redirect. Links to this installation's own pages (unsubscribe, preferences) stay as they
are. A 1×1 pixel (`/m/o/<token>/`) is added to the HTML part only for customers whose
email permission allows measuring opens (`Consent.tracking`, off by default), and an open
is recorded only while it still does.

Each recorded click or open also publishes `message.clicked` / `message.opened` for the
customer (see `engagement_events`): the engagement segment rule is judged again at once.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from treu.core import events
from treu.core.events import NewEvent
from treu.messaging.engagement_events import MESSAGE_CLICKED, MESSAGE_OPENED
from treu.messaging.models import (
    Channel,
    Consent,
    ConsentState,
    EventKind,
    MessageEvent,
    OutboundMessage,
)

CLICK_SALT = "treu.messaging.click"
OPEN_SALT = "treu.messaging.open"
MAX_URL = 2000

_HREF = re.compile(r"""(href\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)
_TEXT_URL = re.compile(r"https?://[^\s<>\"'\]]+")
_TRAILING = ".,;:!?)"


def _own(url: str) -> bool:
    return url.startswith(settings.SITE_URL + "/")


@lru_cache(maxsize=4)
def _path_around_token(name: str) -> tuple[str, str]:
    # reverse() costs more than signing; a campaign rewrites hundreds of thousands of links.
    before, after = reverse(name, args=["TOKEN"]).split("TOKEN")
    return before, after


def click_url(key: str, url: str) -> str:
    token = signing.dumps({"k": key, "u": url}, salt=CLICK_SALT, compress=True)
    before, after = _path_around_token("messaging_tracking:click")
    return f"{settings.SITE_URL}{before}{token}{after}"


def open_url(key: str) -> str:
    token = signing.dumps({"k": key}, salt=OPEN_SALT, compress=True)
    before, after = _path_around_token("messaging_tracking:open")
    return f"{settings.SITE_URL}{before}{token}{after}"


def _tracked(key: str, url: str) -> str:
    if _own(url) or len(url) > MAX_URL:
        return url
    return click_url(key, url)


def track_links(key: str, *, text: str, html: str) -> tuple[str, str]:
    """The text and HTML parts with every outside link going through the click redirect."""

    def in_html(match: re.Match) -> str:
        url = html_lib.unescape(match.group(3))
        new = _tracked(key, url)
        if new == url:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{html_lib.escape(new)}{match.group(2)}"

    def in_text(match: re.Match) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            url, tail = url[:-1], url[-1] + tail
        return _tracked(key, url) + tail

    return _TEXT_URL.sub(in_text, text), _HREF.sub(in_html, html) if html else html


def with_open_pixel(key: str, html: str) -> str:
    pixel = f'<img src="{html_lib.escape(open_url(key))}" width="1" height="1" alt="">'
    closing = html.lower().rfind("</body>")
    if closing == -1:
        return html + pixel
    return html[:closing] + pixel + html[closing:]


def customers_allowing_open_tracking(customer_ids) -> set[int]:
    """Of these customers, those whose active email permission allows measuring opens."""
    ids = sorted({i for i in customer_ids if i})
    allowed: set[int] = set()
    for start in range(0, len(ids), 1000):
        allowed.update(
            Consent.objects.filter(
                customer_id__in=ids[start : start + 1000],
                channel=Channel.EMAIL,
                state=ConsentState.ACTIVE,
                tracking=True,
            ).values_list("customer_id", flat=True)
        )
    return allowed


@dataclass(frozen=True)
class Click:
    message_id: int | None
    url: str
    key: str = ""
    customer_id: int | None = None


def read_click_token(token: str) -> Click | None:
    """The link a click token stands for; None for a forged or broken token."""
    try:
        data = signing.loads(token, salt=CLICK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    url, key = data.get("u"), data.get("k")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    if not isinstance(key, str):
        return None
    found = OutboundMessage.objects.filter(key=key).values_list("id", "customer_id").first()
    message_id, customer_id = found or (None, None)
    return Click(message_id=message_id, url=url, key=key, customer_id=customer_id)


def _publish(kind: str, *, customer_id: int | None, payload: dict, at: datetime) -> None:
    if customer_id is not None:
        events.publish_many(
            [NewEvent(kind, customer_id, payload, source="messaging", occurred_at=at)]
        )


@transaction.atomic
def record_click(token: str, *, now: datetime | None = None) -> str | None:
    """Record a click and return where it leads; None for a token treu did not sign.

    A link in a mail whose outbox row is gone (erased with its customer) still leads to
    its target but records nothing.
    """
    click = read_click_token(token)
    if click is None:
        return None
    if click.message_id is not None:
        at = now or timezone.now()
        MessageEvent.objects.create(
            message_id=click.message_id, kind=EventKind.CLICK, at=at, url=click.url[:MAX_URL]
        )
        payload = {"message_id": click.message_id, "key": click.key, "url": click.url[:MAX_URL]}
        _publish(MESSAGE_CLICKED, customer_id=click.customer_id, payload=payload, at=at)
    return click.url


@transaction.atomic
def record_open(token: str, *, now: datetime | None = None) -> bool:
    """Record an open if the token is ours and the customer still allows measuring opens."""
    try:
        data = signing.loads(token, salt=OPEN_SALT)
    except signing.BadSignature:
        return False
    key = data.get("k") if isinstance(data, dict) else None
    message = OutboundMessage.objects.filter(key=key).only("id", "key", "customer_id").first()
    if message is None or not message.customer_id:
        return False
    if message.customer_id not in customers_allowing_open_tracking([message.customer_id]):
        return False
    at = now or timezone.now()
    MessageEvent.objects.create(message=message, kind=EventKind.OPEN, at=at)
    payload = {"message_id": message.pk, "key": message.key}
    _publish(MESSAGE_OPENED, customer_id=message.customer_id, payload=payload, at=at)
    return True
