"""Writing mails into the outbox and sending them from it, exactly once per key.

A job (campaign, automation, confirmation mail) writes rows with `enqueue_messages`; the
worker's `send_due_messages` claims a few due rows at a time for a short lease, hands each
to Django's mail backend and marks it sent — together with the next mail's hand-over mark,
one committed write per mail (`_Marks`). Two workers never claim the same row
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer at a time). A worker that
dies leaves its rows leased: once the lease has run out they are sent again — unless the
worker had started handing one to the mail server, which may or may not have taken it.
Such a row becomes *unclear* instead of going out twice, and the back office offers to
send it again (with the same Message-ID, so mail programs show one copy).

Through a django-anymail provider (an HTTP API) there is no "before DATA" moment: the row
is marked right before the API call, and what comes back decides. An answer (any HTTP
status) means the provider told us whether it took the mail; a request that never reached
it (refused connection, unknown host, connect timeout, failed TLS handshake) is tried
again; a request that may have reached it without an answer (read timeout, connection
dropped, a gateway's 502/504, an unreadable 2xx) makes the row unclear at once.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import requests
from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import mail as mail_hooks
from treu.messaging.models import (
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
    Suppression,
    SuppressionReason,
)
from treu.messaging.services import engagement

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # a claimed batch must be sent within this
BATCH = 25  # rows per claim: small, so a dead worker holds few
MAX_ATTEMPTS = 6
DUE_INDEX = "messaging_outbox_due"  # OutboundMessage.Meta: the queued rows by due time
# The key of the anymail metadata that carries our Message-ID to the provider and back.
TRACKING_METADATA_KEY = "treu_message_id"
# Waits after the 1st … 5th temporary failure (a mail server that is down for a while).
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)


class OutboxError(ValidationError):
    """A message that cannot be written; carries German messages per field."""


@dataclass(frozen=True)
class NewMessage:
    key: str
    to_email: str
    subject: str
    text_body: str
    purpose: str = MessagePurpose.MARKETING
    html_body: str = ""
    customer_id: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    not_before: datetime | None = None


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    unclear: int = 0
    rate_limited: bool = False


def _domain() -> str:
    address = settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">")
    return address.rsplit("@", 1)[-1] or "localhost"


def enqueue_messages(messages: Iterable[NewMessage], *, now: datetime | None = None) -> int:
    """Write the messages into the outbox; a key already there is left as it is.

    Returns how many were new. All or nothing: an invalid message (empty key or subject,
    an address that is not one) raises OutboxError and writes none. The worker is asked
    to send once the caller's transaction commits.
    """
    now = now or timezone.now()
    messages = list(messages)
    errors: list[str] = []
    for index, message in enumerate(messages):
        try:
            validate_email(message.to_email)
        except ValidationError:
            errors.append(
                _("Message %(n)s: “%(address)s” is not an email address.")
                % {"n": index + 1, "address": message.to_email}
            )
        if not message.key or len(message.key) > 200:
            errors.append(
                _("Message %(n)s: the key must have 1 to 200 characters.") % {"n": index + 1}
            )
        if not message.subject.strip():
            errors.append(_("Message %(n)s: the subject is empty.") % {"n": index + 1})
        if message.purpose not in MessagePurpose.values:
            errors.append(_("Message %(n)s: unknown purpose.") % {"n": index + 1})
    if errors:
        raise OutboxError({"messages": errors})
    domain = _domain()
    created = 0
    openers = engagement.customers_allowing_open_tracking(
        m.customer_id for m in messages if m.purpose == MessagePurpose.MARKETING and m.html_body
    )
    with transaction.atomic():
        for start in range(0, len(messages), 1000):
            chunk = {m.key: m for m in messages[start : start + 1000]}
            known = set(
                OutboundMessage.objects.filter(key__in=list(chunk)).values_list("key", flat=True)
            )
            rows = [
                OutboundMessage(
                    key=m.key,
                    customer_id=m.customer_id,
                    to_email=m.to_email.strip(),
                    purpose=m.purpose,
                    subject=m.subject.strip(),
                    **_bodies(m, openers),
                    headers=dict(m.headers),
                    message_id=OutboundMessage.message_id_for(m.key, domain),
                    not_before=m.not_before or now,
                    created_at=now,
                )
                for key, m in chunk.items()
                if key not in known
            ]
            # A key written by a concurrent job in the meantime is skipped, not doubled.
            OutboundMessage.objects.bulk_create(rows, ignore_conflicts=True)
            created += len(rows)
        if created:
            transaction.on_commit(_wake_sender)
    return created


def _bodies(message: NewMessage, openers: set[int]) -> dict[str, str]:
    """A marketing mail's links go through the click redirect; the open pixel only where
    the customer allowed measuring opens."""
    if message.purpose != MessagePurpose.MARKETING:
        return {"text_body": message.text_body, "html_body": message.html_body}
    text, html = engagement.track_links(message.key, text=message.text_body, html=message.html_body)
    if html and message.customer_id in openers:
        html = engagement.with_open_pixel(message.key, html)
    return {"text_body": text, "html_body": html}


def _wake_sender() -> None:
    from treu.messaging.tasks import send_outbox

    send_outbox()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def rate_budget(*, now: datetime) -> int:
    """How many more mails may go out now under the per-minute limit (all workers)."""
    limit = settings.MESSAGING_RATE_PER_MINUTE
    if not limit:
        return BATCH
    recent = OutboundMessage.objects.filter(sent_at__gt=now - timedelta(minutes=1)).count()
    in_flight = OutboundMessage.objects.filter(status=MessageStatus.SENDING).count()
    return max(0, limit - recent - in_flight)


def claim_due_messages(*, limit: int = BATCH, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` due rows for this worker for one lease; returns their ids."""
    now = now or timezone.now()
    if limit <= 0:
        return []
    table = OutboundMessage._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    # SQLite's planner, without statistics, prefers the status index and sorts every
    # queued row for each claim; the due index (partial: its status is written as the
    # literal it was built with) hands out the first rows in order.
    due = f" INDEXED BY {DUE_INDEX}" if connection.vendor == "sqlite" else ""
    sql = (
        f"UPDATE {table} SET status = %s, lease_until = %s, handing_over = %s, "  # noqa: S608
        f"attempts = attempts + 1 WHERE id IN (SELECT id FROM {table}{due} "
        f"WHERE status = '{MessageStatus.QUEUED}' AND not_before <= %s "
        f"ORDER BY not_before, id LIMIT %s{lock}) RETURNING id"
    )
    with _flushed_later(), connection.cursor() as cursor:
        cursor.execute(sql, [MessageStatus.SENDING, now + LEASE, False, now, limit])
        return sorted(row[0] for row in cursor.fetchall())


def recover_stalled_messages(*, now: datetime | None = None) -> tuple[int, int]:
    """Rows of a worker that stopped: back in the queue, or unclear if it was handing over.

    Returns (queued again, unclear).
    """
    now = now or timezone.now()
    stalled = OutboundMessage.objects.filter(status=MessageStatus.SENDING, lease_until__lt=now)
    # Mostly there are none. A LIMIT 1 index scan tells so cheaply even while the lease
    # index still holds the entries of a whole campaign's rows until VACUUM (and it
    # marks them dead for the next look); the UPDATEs' bitmap scans would visit them all.
    if not stalled.exists():
        return 0, 0
    with transaction.atomic():
        queued = stalled.filter(handing_over=False).update(
            status=MessageStatus.QUEUED, lease_until=None
        )
        unclear = stalled.filter(handing_over=True).update(
            status=MessageStatus.UNCLEAR,
            lease_until=None,
            last_error=_("The worker stopped while handing the mail to the mail server."),
        )
    if unclear:
        log.warning("%s outbox messages may or may not have been sent", unclear)
    return queued, unclear


def send_due_messages(
    *, now: datetime | None = None, limit: int = BATCH, mail_connection=None
) -> SendResult:
    """Claim one batch of due mails and send it over one connection to the mail server.

    A connection passed in stays open for the caller's next batch; one opened here is
    closed at the end.
    """
    now = now or timezone.now()
    result = SendResult()
    budget = rate_budget(now=now)
    if budget <= 0:
        result.rate_limited = True
        return result
    ids = claim_due_messages(limit=min(limit, budget), now=now)
    if not ids:
        return result
    rows = {m.pk: m for m in OutboundMessage.objects.filter(pk__in=ids)}
    blocked = _suppressions({m.to_email.lower() for m in rows.values()})
    owned = mail_connection is None
    mail_connection = mail_connection or get_connection()
    marks = _Marks()
    try:
        for pk in ids:
            message = rows[pk]
            suppression = blocked.get(message.to_email.lower())
            if suppression is not None and suppression.blocks(message.purpose):
                _finish(message, MessageStatus.SUPPRESSED, error=suppression.get_reason_display())
                result.suppressed += 1
                continue
            mail_connection.open()  # a no-op while it is open
            if not _send_one(message, mail_connection, marks, result):
                mail_connection.close()  # it may be broken: the next mail opens a new one
    finally:
        marks.write_delivered()
        if owned:
            mail_connection.close()
    return result


def _suppressions(addresses: set[str]) -> dict[str, Suppression]:
    return {s.email: s for s in Suppression.objects.filter(email__in=sorted(addresses))}


class _NotOurs(Exception):
    """The row was taken back from this worker (it paused longer than its lease)."""


class _Marks:
    """The worker's marks, one committed write per mail.

    A mail the server took is not marked sent on its own: its "sent" goes with the next
    mail's hand-over mark, in the same statement and commit (or at the end of the batch).
    Until then it stays "being handed over" — should the worker die in between, it turns
    unclear like a mail whose data was cut off, never sent twice.
    """

    def __init__(self) -> None:
        self.delivered: tuple[int, datetime, str] | None = None  # (id, sent at, provider id)

    def hand_over(self, message_id: int) -> None:
        """Committed (and flushed) before the mail goes; raises _NotOurs if taken back."""
        table = OutboundMessage._meta.db_table
        with connection.cursor() as cursor:
            if self.delivered is None:
                cursor.execute(
                    f"UPDATE {table} SET handing_over = %s "  # noqa: S608 - our table's name
                    f"WHERE id = %s AND status = %s RETURNING id",
                    [True, message_id, MessageStatus.SENDING],
                )
            else:
                done, sent_at, provider_id = self.delivered
                cursor.execute(
                    f"UPDATE {table} SET handing_over = (id = %(next)s), "  # noqa: S608
                    f"status = CASE WHEN id = %(next)s THEN status ELSE %(sent)s END, "
                    f"sent_at = CASE WHEN id = %(next)s THEN sent_at ELSE %(at)s END, "
                    f"lease_until = CASE WHEN id = %(next)s THEN lease_until END, "
                    f"last_error = CASE WHEN id = %(next)s THEN last_error ELSE '' END, "
                    f"provider_message_id = CASE WHEN id = %(next)s OR %(provider)s = '' "
                    f"THEN provider_message_id ELSE %(provider)s END "
                    f"WHERE (id = %(next)s AND status = %(sending)s) OR id = %(done)s "
                    f"RETURNING id",
                    {
                        "next": message_id,
                        "done": done,
                        "sent": MessageStatus.SENT,
                        "at": sent_at,
                        "provider": provider_id,
                        "sending": MessageStatus.SENDING,
                    },
                )
                self.delivered = None
            marked = any(row[0] == message_id for row in cursor.fetchall())
        if not marked:
            raise _NotOurs

    def delivered_now(self, message_id: int, provider_message_id: str) -> None:
        self.write_delivered()  # only one waits at a time
        self.delivered = (message_id, timezone.now(), provider_message_id)

    def write_delivered(self) -> None:
        if self.delivered is None:
            return
        done, sent_at, provider_id = self.delivered
        self.delivered = None
        _finish_row(done, MessageStatus.SENT, sent_at=sent_at, provider_message_id=provider_id)


def _send_one(message: OutboundMessage, mail_connection, marks: _Marks, result: SendResult) -> bool:
    """Hand one mail over; False when the connection should be opened anew."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers={**message.headers, "Message-ID": message.message_id},
        connection=mail_connection,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    # A django-anymail backend passes this to the provider, whose tracking webhooks send it
    # back: the row is found even where the provider reports only its own ids.
    email.metadata = {TRACKING_METADATA_KEY: message.message_id}
    if message.purpose == MessagePurpose.MARKETING and settings.MESSAGING_MARKETING_ESP_EXTRA:
        email.esp_extra = dict(settings.MESSAGING_MARKETING_ESP_EXTRA)  # Postmark's stream
    # On SMTP the mark is set at the last moment, once the server accepted sender and
    # recipient (`core.mail.before_data`); other backends (anymail's API providers) get it
    # right before the call.
    late = getattr(mail_connection, "supports_before_data", False)
    marked: list[bool] = []
    token = mail_hooks.before_data.set(partial(_mark, marks, message.pk, marked) if late else None)
    try:
        if not late:
            _mark(marks, message.pk, marked)
        email.send()
    except _NotOurs:
        return False  # an SMTP transaction may be open: start over with a new connection
    except AnymailError as error:  # before OSError: anymail's request errors are OSErrors too
        return _provider_error(message, email, error, result)
    except smtplib.SMTPResponseException as error:
        _failed(message, error.smtp_code, _error_text(error), result)
    except smtplib.SMTPRecipientsRefused as error:
        code, text = next(iter(error.recipients.values()), (550, b""))
        _failed(message, code, _error_text(text), result)
    except (OSError, smtplib.SMTPException) as error:
        text = str(error) or error.__class__.__name__
        if late and marked:  # the mail's data had begun to go: the server may have it
            _unclear(message, text, result)
        else:
            _retry_or_fail(message, text, result)
        return False
    else:
        marks.delivered_now(message.pk, _provider_message_id(email))
        result.sent += 1
    finally:
        mail_hooks.before_data.reset(token)
    return True


def _mark(marks: _Marks, message_id: int, marked: list[bool]) -> None:
    marks.hand_over(message_id)
    marked.append(True)


# Answers after which the provider may take the mail later: try again (with the backoff).
RETRY_HTTP = {401, 403, 408, 409, 425, 429, 500, 503}
# Answers of a gateway in front of the provider, which may have passed the mail on.
UNCLEAR_HTTP = {502, 504}


def _provider_error(message, email, error: AnymailError, result: SendResult) -> bool:
    """A django-anymail provider did not confirm the mail; False: open a new connection."""
    try:
        text = _error_text(str(error) or error.__class__.__name__)
    except Exception:  # anymail describes the HTTP answer; without one that may fail
        text = f"{error.__class__.__name__} {getattr(error, 'status_code', '') or ''}".strip()
    if isinstance(error, AnymailRecipientsRefused):  # it answered: not this address
        _finish(message, MessageStatus.FAILED, error=text)
        result.failed += 1
        recipients = getattr(getattr(email, "anymail_status", None), "recipients", {}) or {}
        if any(status.status == "invalid" for status in recipients.values()):
            suppress_address(message.to_email, reason=SuppressionReason.BOUNCE, detail=text)
        return True
    if not isinstance(error, AnymailAPIError):
        # Refused before anything was sent (a feature the provider lacks, an address it
        # cannot encode): it would be refused again.
        _finish(message, MessageStatus.FAILED, error=text)
        result.failed += 1
        return True
    code = error.status_code
    if code is None:
        if _never_reached_provider(error):
            _retry_or_fail(message, text, result)
        else:
            _unclear(message, text, result)
        return False
    if 200 <= code < 300 or code in UNCLEAR_HTTP:
        _unclear(message, text, result)
    elif code in RETRY_HTTP or code >= 500:
        _retry_or_fail(message, text, result)
    else:  # 400, 404, 413, 422 …: this mail as it is will not be taken
        _finish(message, MessageStatus.FAILED, error=text)
        result.failed += 1
    return True


def _never_reached_provider(error: Exception) -> bool:
    """Whether a failed API request certainly never reached the provider.

    anymail raises its error from the `requests` one; a refused connection or an unknown
    host is a ConnectionError around urllib3's NewConnectionError (nothing was sent),
    while "Connection aborted" (the request may have gone) is not.
    """
    from urllib3.exceptions import NewConnectionError

    cause = error.__cause__ or error
    if isinstance(cause, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if isinstance(cause, requests.exceptions.ConnectionError):
        inner = cause.args[0] if cause.args else None
        return isinstance(getattr(inner, "reason", inner), NewConnectionError)
    return False


def _unclear(message: OutboundMessage, error: str, result: SendResult) -> None:
    """The server or provider may have taken the mail: never resent on our own."""
    _finish(
        message,
        MessageStatus.UNCLEAR,
        error=_("Unclear whether the mail server or provider took the mail: %(error)s")
        % {"error": error},
    )
    result.unclear += 1
    log.warning("outbox message %s may or may not have been sent: %s", message.pk, error)


def _provider_message_id(email) -> str:
    """The id a django-anymail backend got from the provider for this mail, if any."""
    status = getattr(email, "anymail_status", None)
    found = getattr(status, "message_id", None)
    if isinstance(found, set):  # one id per recipient; we write to one
        found = next(iter(found), None) if len(found) == 1 else None
    return "" if found is None or found == "" else str(found)[:255]


def _error_text(value) -> str:
    if isinstance(value, smtplib.SMTPResponseException):
        value = value.smtp_error
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)[:500]


def _failed(message: OutboundMessage, code: int, text: str, result: SendResult) -> None:
    if 400 <= code < 500:
        _retry_or_fail(message, f"{code} {text}", result)
        return
    # Permanent: the server refused this address or this mail.
    _finish(message, MessageStatus.FAILED, error=f"{code} {text}")
    result.failed += 1
    if code in (550, 551, 553):  # no such mailbox: writing again would hurt the reputation
        suppress_address(message.to_email, reason=SuppressionReason.BOUNCE, detail=text)


def _retry_or_fail(message: OutboundMessage, error: str, result: SendResult) -> None:
    if message.attempts >= MAX_ATTEMPTS:
        _finish(message, MessageStatus.FAILED, error=error)
        result.failed += 1
        return
    wait = BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
    with _flushed_later():
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED,
            handing_over=False,
            lease_until=None,
            not_before=timezone.now() + wait,
            last_error=error[:500],
        )
    result.retried += 1


@contextmanager
def _flushed_later():
    """A transaction PostgreSQL need not flush to disk before it returns.

    For the marks after a hand-over: if the database server crashed before flushing one,
    the row would fall back to "being handed over", i.e. unclear — never sent twice. The
    mark before the hand-over is flushed (and with it everything written before it).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _finish(message: OutboundMessage, status: str, *, error: str = "") -> None:
    _finish_row(message.pk, status, error=error)


def _finish_row(
    message_id: int,
    status: str,
    *,
    error: str = "",
    sent_at: datetime | None = None,
    provider_message_id: str = "",
) -> None:
    with _flushed_later():
        extra = {"provider_message_id": provider_message_id} if provider_message_id else {}
        OutboundMessage.objects.filter(pk=message_id).update(
            status=status,
            handing_over=False,
            lease_until=None,
            sent_at=sent_at,
            last_error=error[:500],
            **extra,
        )


@transaction.atomic
def resend_unclear_message(message: OutboundMessage) -> OutboundMessage:
    """Staff decided an unclear mail should go out again (same Message-ID)."""
    message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.status not in (MessageStatus.UNCLEAR, MessageStatus.FAILED):
        raise OutboxError({"message": [_("Only unclear or failed mails can be sent again.")]})
    message.status, message.attempts, message.not_before = MessageStatus.QUEUED, 0, timezone.now()
    message.last_error = ""
    message.save(update_fields=["status", "attempts", "not_before", "last_error"])
    transaction.on_commit(_wake_sender)
    return message


def suppress_address(
    email: str, *, reason: str, detail: str = "", now: datetime | None = None
) -> Suppression:
    """Stop writing to an address (a bounce, a complaint, or staff); once per address."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise OutboxError({"email": [_("Enter a valid email address.")]}) from None
    if reason not in SuppressionReason.values:
        raise OutboxError({"reason": [_("Unknown reason.")]})
    suppression, created = Suppression.objects.get_or_create(
        email=email,
        defaults={"reason": reason, "detail": detail[:300], "created_at": now or timezone.now()},
    )
    if not created and reason == SuppressionReason.BOUNCE and suppression.reason != reason:
        # A bounce outranks a complaint: it stops every mail, not only marketing.
        suppression.reason, suppression.detail = reason, detail[:300]
        suppression.save(update_fields=["reason", "detail"])
    return suppression


def lift_suppression(suppression: Suppression) -> None:
    """Staff write to the address again (the customer gave a working address back)."""
    Suppression.objects.filter(pk=suppression.pk).delete()


def drain_outbox(*, seconds: float = 50.0) -> SendResult:
    """Send batch after batch until nothing is due, the rate limit is reached or time is up.

    What a sender task does: several may run at once (`MESSAGING_SENDERS`); each claims
    its own rows and keeps one conversation with the mail server across its batches.
    """
    total = SendResult()
    deadline = time.monotonic() + seconds
    recover_stalled_messages()
    mail_connection = get_connection()
    try:
        while time.monotonic() < deadline:
            result = send_due_messages(mail_connection=mail_connection)
            for name in ("sent", "retried", "failed", "suppressed", "unclear"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            if result.rate_limited:
                total.rate_limited = True
                break
            if not (
                result.sent
                or result.retried
                or result.failed
                or result.suppressed
                or result.unclear
            ):
                break
    finally:
        mail_connection.close()
    return total
