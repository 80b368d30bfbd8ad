"""Every write of outbound webhooks: endpoints, deliveries, sending, retries, disabling."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from treu.core.models import DomainEvent
from treu.core.roles import owner_addresses
from treu.webhooks import selectors, transport
from treu.webhooks.models import PING, Attempt, Delivery, Endpoint, Subscription

log = logging.getLogger(__name__)

# Wait before attempt 2, 3, …; after the last one treu gives up (6 attempts over about 8.5 hours).
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
# A claimed delivery is not picked again for this long: far longer than one request may take.
CLAIM_LEASE = timedelta(minutes=2)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
USER_AGENT = "treu-webhooks/1"
KEEP_DELIVERIES_DAYS = 30


def disable_after() -> int:
    """Failed attempts in a row after which an endpoint is switched off."""
    return settings.TREU_WEBHOOK_DISABLE_AFTER


class WebhookError(ValidationError):
    """A refused endpoint change; message_dict holds German messages per field."""


# --- endpoints -------------------------------------------------------------------------------


def generate_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def validate_url(url: str) -> str:
    """The URL as stored, or WebhookError: https only, plain http only for this machine."""
    url = (url or "").strip()
    if not url:
        raise WebhookError({"url": [_("Please enter the address treu should send events to.")]})
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebhookError({"url": [_("Only https:// addresses can receive webhooks.")]})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise WebhookError({"url": [_("This is not a valid web address.")]}) from None
    if parts.username or parts.password:
        raise WebhookError(
            {"url": [_("Please do not put a user name or password into the address.")]}
        )
    if parts.scheme == "http" and not settings.DEBUG and parts.hostname not in LOCAL_HOSTS:
        raise WebhookError(
            {
                "url": [
                    _(
                        "Events about customers may only travel encrypted: "
                        "please use an https:// address."
                    )
                ]
            }
        )
    return url


def _clean_kinds(kinds) -> list[str]:
    wanted = sorted(set(kinds or []))
    if not wanted:
        raise WebhookError({"kinds": [_("Please choose at least one event.")]})
    offered = {k.name for k in selectors.outbound_kinds()}
    unknown = [k for k in wanted if k not in offered]
    if unknown:
        raise WebhookError(
            {"kinds": [_("Unknown event: %(kinds)s.") % {"kinds": ", ".join(unknown)}]}
        )
    return wanted


def _set_kinds(endpoint: Endpoint, kinds: list[str]) -> None:
    endpoint.subscriptions.exclude(kind__in=kinds).delete()
    have = set(endpoint.subscriptions.values_list("kind", flat=True))
    Subscription.objects.bulk_create(
        [Subscription(endpoint=endpoint, kind=k) for k in kinds if k not in have]
    )


def _endpoints_changed() -> None:
    # Forget now for this transaction's own events, and again once other threads can see it.
    selectors.forget_wanted_kinds()
    transaction.on_commit(selectors.forget_wanted_kinds)


@transaction.atomic
def endpoint_create(
    *, url: str, kinds: list[str], description: str = "", active: bool = True
) -> Endpoint:
    url = validate_url(url)
    kinds = _clean_kinds(kinds)
    endpoint = Endpoint.objects.create(
        url=url, description=description.strip(), active=active, secret=generate_secret()
    )
    _set_kinds(endpoint, kinds)
    _endpoints_changed()
    return endpoint


@transaction.atomic
def endpoint_update(
    *, endpoint: Endpoint, url: str, kinds: list[str], description: str = "", active: bool = True
) -> Endpoint:
    url = validate_url(url)
    kinds = _clean_kinds(kinds)
    was_active = endpoint.active
    endpoint.url = url
    endpoint.description = description.strip()
    endpoint.save(update_fields=["url", "description", "updated_at"])
    _set_kinds(endpoint, kinds)
    if active and not was_active:
        endpoint_enable(endpoint=endpoint)
    elif not active and was_active:
        Endpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_at=None)
        endpoint.active, endpoint.disabled_at = False, None
    _endpoints_changed()
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint) -> None:
    endpoint.delete()
    _endpoints_changed()


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint) -> str:
    endpoint.secret = generate_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint.secret


@transaction.atomic
def endpoint_enable(*, endpoint: Endpoint, now: datetime | None = None) -> int:
    """Switch an endpoint on again, forget its failures and resume what it has not received.

    Returns how many waiting deliveries were resumed.
    """
    now = now or timezone.now()
    Endpoint.objects.filter(pk=endpoint.pk).update(
        active=True, disabled_at=None, consecutive_failures=0, updated_at=now
    )
    endpoint.active, endpoint.disabled_at, endpoint.consecutive_failures = True, None, 0
    waiting = list(
        Delivery.objects.filter(
            endpoint=endpoint, status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED]
        ).values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=waiting).update(next_attempt_at=now)
    for delivery_id in waiting:
        _enqueue(delivery_id)
    _endpoints_changed()
    return len(waiting)


def _notify_owners_disabled(endpoint: Endpoint, failures: int) -> None:
    recipients = owner_addresses()
    if not recipients:
        log.warning("Webhook endpoint %s disabled; no owner has an email address", endpoint.pk)
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Webhook switched off: %(url)s") % {"url": endpoint.url}
        body = _(
            "treu could not deliver events to %(url)s %(failures)s times in a row and has "
            "switched this webhook off so nothing piles up.\n\n"
            "Please check the receiving system, then switch the webhook on again in the back "
            "office under Webhooks (%(path)s). Events that were waiting are sent then.\n"
        ) % {
            "url": endpoint.url,
            "failures": failures,
            "path": reverse("webhooks:detail", args=[endpoint.pk]),
        }
    try:
        mail.send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:  # a broken mail server must not break delivery bookkeeping
        log.exception("Could not mail the owners that webhook endpoint %s is off", endpoint.pk)


# --- deliveries ------------------------------------------------------------------------------


def public_payload(event: DomainEvent) -> dict:
    """The stable, documented shape receivers get (docs/webhooks.md)."""
    customer = None
    if event.customer_id is not None:
        customer = {"number": event.customer.number}
    return {
        "id": event.pk,
        "type": event.kind,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "customer": customer,
        "data": event.payload,
    }


def _enqueue(delivery_id: int) -> None:
    from treu.webhooks.tasks import send_delivery

    transaction.on_commit(lambda: send_delivery(delivery_id))


def deliveries_for_event(*, event: DomainEvent) -> list[Delivery]:
    """Create the deliveries of one committed event (at most one per endpoint) and queue them.

    Cheap when no endpoint wants the kind: the wanted kinds are cached (see selectors).
    """
    if event.kind not in selectors.wanted_kinds():
        return []
    endpoint_ids = selectors.endpoint_ids_wanting(event.kind)
    if not endpoint_ids:
        return []
    payload = public_payload(event)
    created = []
    with transaction.atomic():
        for endpoint_id in endpoint_ids:
            delivery, is_new = Delivery.objects.get_or_create(
                endpoint_id=endpoint_id,
                event=event,
                defaults={
                    "kind": event.kind,
                    "payload": payload,
                    "next_attempt_at": timezone.now(),
                },
            )
            if is_new:
                created.append(delivery)
                _enqueue(delivery.pk)
    return created


@transaction.atomic
def endpoint_send_test(*, endpoint: Endpoint) -> Delivery:
    """Queue a ping, so the admin sees whether the receiver answers and checks signatures."""
    now = timezone.now()
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        kind=PING,
        payload={
            "id": None,
            "type": PING,
            "occurred_at": now.astimezone(UTC).isoformat(),
            "customer": None,
            "data": {"message": "Test event from treu"},
        },
        next_attempt_at=now,
    )
    _enqueue(delivery.pk)
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery, now: datetime | None = None) -> Delivery:
    """Send a delivery again by hand, with a fresh round of retries."""
    now = now or timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now
    )
    delivery.refresh_from_db()
    _enqueue(delivery.pk)
    return delivery


def retry_delay(attempts: int) -> timedelta | None:
    """How long to wait after `attempts` failed attempts; None means give up."""
    if 1 <= attempts <= len(BACKOFF):
        return BACKOFF[attempts - 1]
    return None


def delivery_claim(*, delivery_id: int, now: datetime) -> bool:
    """Take a due delivery for sending; False if another worker has it or it is not due.

    One conditional UPDATE, so two workers never send the same delivery at once. The
    lease (next_attempt_at in the near future) lets the picker recover it if the worker dies.
    """
    claimable = Delivery.objects.filter(
        Q(endpoint__active=True) | Q(kind=PING),
        status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED],
        next_attempt_at__lte=now,
    ).values("pk")
    claimed = Delivery.objects.filter(pk=delivery_id, pk__in=claimable).update(
        next_attempt_at=now + CLAIM_LEASE, attempts=F("attempts") + 1
    )
    return claimed == 1


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def encode_body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class SendResult:
    attempt: Attempt
    delivery: Delivery
    endpoint_disabled: bool = False


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> SendResult | None:
    """Make one attempt of a delivery, if it is due and nobody else is sending it.

    The HTTP request runs outside any transaction (a slow receiver must not hold a lock).
    """
    now = now or timezone.now()
    if not delivery_claim(delivery_id=delivery_id, now=now):
        return None
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    timestamp = int(now.timestamp())
    body = encode_body(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Treu-Event": delivery.kind,
        "X-Treu-Delivery": str(delivery.pk),
        "X-Treu-Timestamp": str(timestamp),
        "X-Treu-Signature": sign(endpoint.secret, timestamp, body),
    }
    started = time.monotonic()
    response = transport.post(endpoint.url, body=body, headers=headers)
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record_attempt(delivery, response, now=now, duration_ms=duration_ms)


@transaction.atomic
def _record_attempt(
    delivery: Delivery, response: transport.Response, *, now: datetime, duration_ms: int
) -> SendResult:
    ok = response.ok
    attempt = Attempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        attempted_at=now,
        succeeded=ok,
        status_code=response.status_code,
        duration_ms=duration_ms,
        error=response.error[:500],
        response_excerpt=response.excerpt[:500],
    )
    delay = None if ok else retry_delay(delivery.attempts)
    if ok:
        status, next_at = Delivery.Status.SUCCEEDED, None
    elif delay is not None:
        status, next_at = Delivery.Status.FAILED, now + delay
    else:
        status, next_at = Delivery.Status.GAVE_UP, None
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        next_attempt_at=next_at,
        last_attempt_at=now,
        last_status_code=response.status_code,
        last_error=response.error[:500],
        last_duration_ms=duration_ms,
    )
    delivery.refresh_from_db()
    endpoint_qs = Endpoint.objects.filter(pk=delivery.endpoint_id)
    endpoint_qs.update(
        consecutive_failures=0 if ok else F("consecutive_failures") + 1,
        last_delivery_at=now,
        last_status_code=response.status_code,
        last_delivery_ok=ok,
    )
    disabled = False
    if not ok:
        limit = disable_after()
        # Conditional, so exactly one failing attempt switches it off and mails the owners.
        disabled = (
            endpoint_qs.filter(active=True, consecutive_failures__gte=limit).update(
                active=False, disabled_at=now
            )
            == 1
        )
        if disabled:
            endpoint = endpoint_qs.get()
            transaction.on_commit(lambda: _notify_owners_disabled(endpoint, limit))
            _endpoints_changed()
        elif delay is not None:
            _schedule_retry(delivery.pk, delay)
    return SendResult(attempt=attempt, delivery=delivery, endpoint_disabled=disabled)


def _schedule_retry(delivery_id: int, delay: timedelta) -> None:
    from treu.webhooks.tasks import send_delivery

    seconds = int(delay.total_seconds())
    transaction.on_commit(lambda: send_delivery.schedule(args=(delivery_id,), delay=seconds))


def deliveries_purge(*, now: datetime | None = None, days: int = KEEP_DELIVERIES_DAYS) -> int:
    """Delete delivery logs (payloads about customers) older than `days`; returns rows deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _per_model = Delivery.objects.filter(created_at__lt=cutoff).delete()
    return deleted
