"""The outbox through django-anymail providers: anymail's own test backend, and anymail's
Postmark backend talking HTTP to a local stand-in for Postmark's API (like aiosmtpd for
SMTP). The row is marked before the API call; what comes back decides whether the mail is
sent, tried again, failed or unclear — never sent twice."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailRecipientStatus
from anymail.signals import pre_send
from django.core import mail

from treu.messaging import services
from treu.messaging.models import MessagePurpose, MessageStatus, OutboundMessage, Suppression
from treu.messaging.services import outbox

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setattr(outbox, "_wake_sender", lambda: None)  # the tests send


@pytest.fixture
def test_backend(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {}


@pytest.fixture
def provider_answers():
    """Set what the (test backend's) provider answers, per To address, through anymail's
    own pre_send signal and `anymail_test_response`."""
    answers: dict[str, object] = {}
    seen: list[tuple[str, bool]] = []  # (address, row marked when the call was made)

    def before_the_call(sender, message, esp_name, **kwargs):
        to = message.to[0]
        row = OutboundMessage.objects.get(to_email=to)
        seen.append((to, row.handing_over and row.status == MessageStatus.SENDING))
        answer = answers.get(to)
        if answer is not None:
            message.anymail_test_response = answer

    pre_send.connect(before_the_call, weak=False, dispatch_uid="outbox-anymail-test")
    yield answers, seen
    pre_send.disconnect(dispatch_uid="outbox-anymail-test")


def _answer(code: int, message: str) -> AnymailAPIError:
    """What anymail raises for a provider's HTTP error answer."""
    response = requests.Response()
    response.status_code, response.reason = code, message
    response._content = json.dumps({"Message": message}).encode()
    return AnymailAPIError(message, status_code=code, response=response)


def _enqueue(*addresses: str) -> None:
    services.enqueue_messages(
        services.NewMessage(key=f"k:{a}", to_email=a, subject="Neue Bohnen", text_body="Hallo")
        for a in addresses
    )


def _row(address: str) -> OutboundMessage:
    return OutboundMessage.objects.get(to_email=address)


def test_the_mark_is_committed_right_before_the_api_call_and_the_provider_id_kept(
    test_backend, provider_answers
):
    _answers, seen = provider_answers
    _enqueue("anna@example.de", "ben@example.de")
    result = services.send_due_messages()
    assert result.sent == 2
    assert seen == [("anna@example.de", True), ("ben@example.de", True)]
    for n, address in enumerate(["anna@example.de", "ben@example.de"]):
        row = _row(address)
        assert (row.status, row.handing_over) == (MessageStatus.SENT, False)
        assert row.provider_message_id == str(mail.outbox[n].anymail_status.message_id)
    # Sending again sends nothing more.
    assert services.send_due_messages().sent == 0 and len(mail.outbox) == 2


def test_a_refused_request_fails_that_mail_and_the_batch_goes_on(test_backend, provider_answers):
    answers, _seen = provider_answers
    answers["anna@example.de"] = _answer(422, "Invalid email request")
    _enqueue("anna@example.de", "ben@example.de")
    result = services.send_due_messages()
    assert (result.failed, result.sent) == (1, 1)
    anna = _row("anna@example.de")
    assert anna.status == MessageStatus.FAILED and "Invalid email request" in anna.last_error
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("code", [429, 401, 500, 503])
def test_a_provider_that_cannot_take_it_now_gets_it_again_later(
    test_backend, provider_answers, code
):
    answers, _seen = provider_answers
    answers["anna@example.de"] = _answer(code, "later")
    _enqueue("anna@example.de")
    assert services.send_due_messages().retried == 1
    row = _row("anna@example.de")
    assert (row.status, row.handing_over) == (MessageStatus.QUEUED, False)
    assert row.not_before > row.created_at  # after the backoff
    del answers["anna@example.de"]
    assert services.send_due_messages(now=row.not_before).sent == 1


@pytest.mark.parametrize("code", [502, 504, 200])
def test_an_answer_that_leaves_it_open_makes_the_mail_unclear(test_backend, provider_answers, code):
    answers, _seen = provider_answers
    answers["anna@example.de"] = _answer(code, "gateway")
    _enqueue("anna@example.de")
    result = services.send_due_messages()
    assert result.unclear == 1 and result.retried == 0
    row = _row("anna@example.de")
    assert row.status == MessageStatus.UNCLEAR
    assert row.last_error.startswith("Unklar, ob")  # German, for the outbox page
    # Never sent again on its own; staff may.
    assert services.send_due_messages().sent == 0
    del answers["anna@example.de"]
    services.resend_unclear_message(row)
    assert services.send_due_messages().sent == 1


def test_an_invalid_address_fails_and_is_blocked_a_rejected_one_only_fails(
    test_backend, provider_answers
):
    answers, _seen = provider_answers
    for address, status in [("kaputt@example.de", "invalid"), ("inaktiv@example.de", "rejected")]:
        answers[address] = {
            "recipient_status": {address: AnymailRecipientStatus(message_id=None, status=status)}
        }
    _enqueue("kaputt@example.de", "inaktiv@example.de")
    assert services.send_due_messages().failed == 2
    assert _row("kaputt@example.de").status == MessageStatus.FAILED
    assert _row("inaktiv@example.de").status == MessageStatus.FAILED
    assert list(Suppression.objects.values_list("email", "reason")) == [
        ("kaputt@example.de", "bounce")
    ]


# -- anymail's Postmark backend over HTTP ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostmarkStandIn(BaseHTTPRequestHandler):
    """Answers POST /email the way Postmark's API documents it."""

    mode = "ok"
    received: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append(body)
        if self.mode == "drop":  # took the request, then the connection broke
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.mode == "ok":
            status, answer = 200, {
                "To": body["To"], "SubmittedAt": "2026-11-26T10:00:00Z",
                "MessageID": f"pm-{len(self.received)}", "ErrorCode": 0, "Message": "OK",
            }  # fmt: skip
        else:
            status, answer = 422, {"ErrorCode": 300, "Message": "Invalid email request"}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def postmark(settings):
    PostmarkStandIn.mode, PostmarkStandIn.received = "ok", []
    server = ThreadingHTTPServer(("127.0.0.1", 0), PostmarkStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "token",
        "POSTMARK_API_URL": f"http://127.0.0.1:{server.server_address[1]}/",
        "REQUESTS_TIMEOUT": 2,
    }
    yield PostmarkStandIn
    server.shutdown()
    server.server_close()


def test_postmark_takes_the_mail_and_its_id_is_kept(postmark):
    _enqueue("anna@example.de")
    assert services.send_due_messages().sent == 1
    row = _row("anna@example.de")
    assert (row.status, row.provider_message_id) == (MessageStatus.SENT, "pm-1")
    sent = postmark.received[0]
    assert sent["To"] == "anna@example.de" and sent["Subject"] == "Neue Bohnen"
    assert sent["Metadata"] == {"treu_message_id": row.message_id}


def test_postmark_marketing_goes_through_the_broadcast_stream_if_one_is_set(postmark, settings):
    settings.MESSAGING_MARKETING_ESP_EXTRA = {"MessageStream": "newsletter"}
    services.enqueue_messages(
        [
            services.NewMessage(key="news", to_email="anna@example.de", subject="Neu",
                                text_body="Hallo"),
            services.NewMessage(key="order", to_email="ben@example.de", subject="Bestellt",
                                text_body="Danke", purpose=MessagePurpose.TRANSACTIONAL),
        ]
    )  # fmt: skip
    assert services.send_due_messages().sent == 2
    streams = {body["To"]: body.get("MessageStream") for body in postmark.received}
    assert streams == {"anna@example.de": "newsletter", "ben@example.de": None}


def test_postmark_refusing_the_request_fails_the_mail(postmark):
    postmark.mode = "invalid"
    _enqueue("anna@example.de")
    assert services.send_due_messages().failed == 1
    assert _row("anna@example.de").status == MessageStatus.FAILED


def test_a_connection_dropped_after_the_request_makes_it_unclear(postmark):
    postmark.mode = "drop"
    _enqueue("anna@example.de")
    assert services.send_due_messages().unclear == 1
    assert len(postmark.received) == 1
    assert _row("anna@example.de").status == MessageStatus.UNCLEAR


def test_no_answer_in_time_makes_it_unclear(settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {
            "POSTMARK_SERVER_TOKEN": "token",
            "POSTMARK_API_URL": f"http://127.0.0.1:{listener.getsockname()[1]}/",
            "REQUESTS_TIMEOUT": 1,
        }
        _enqueue("anna@example.de")
        assert services.send_due_messages().unclear == 1
    finally:
        listener.close()
    assert _row("anna@example.de").status == MessageStatus.UNCLEAR


def test_a_provider_that_cannot_be_reached_gets_the_mail_again_later(settings):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "token",
        "POSTMARK_API_URL": f"http://127.0.0.1:{_free_port()}/",  # nobody listens
    }
    _enqueue("anna@example.de", "ben@example.de")
    result = services.send_due_messages()
    assert (result.retried, result.unclear, result.sent) == (2, 0, 0)
    row = _row("anna@example.de")
    assert (row.status, row.handing_over) == (MessageStatus.QUEUED, False)
    assert "Error posting" in row.last_error
