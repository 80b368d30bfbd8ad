"""The outbox over real SMTP (aiosmtpd on localhost): the hand-over mark is set only once
the server accepted sender and recipient, a refused mailbox is never marked."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

from treu.messaging import services
from treu.messaging.models import MessageStatus, OutboundMessage, Suppression

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    def __init__(self):
        self.received: list[tuple[str, bool]] = []  # (Message-ID, marked when DATA came)
        self.marked_at_rcpt: list[bool] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        from asgiref.sync import sync_to_async

        self.marked_at_rcpt.append(
            await sync_to_async(
                lambda: OutboundMessage.objects.get(to_email=address).handing_over,
                thread_sensitive=False,
            )()
        )
        if address.startswith("niemand@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        headers = envelope.content.split(b"\r\n\r\n", 1)[0].decode()
        mid = next(
            line.split(":", 1)[1].strip()
            for line in headers.splitlines()
            if line.lower().startswith("message-id:")
        )
        # The database as the sending worker left it when the mail arrived.
        from asgiref.sync import sync_to_async

        marked = await sync_to_async(
            lambda: OutboundMessage.objects.get(message_id=mid).handing_over,
            thread_sensitive=False,
        )()
        self.received.append((mid, marked))
        return "250 OK"


class DropsDuringData(Recorder):
    """Takes sender and recipient, then the connection breaks while the mail's data comes
    (before the server could say whether it took it) — only for addresses starting "weg"."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if envelope.rcpt_tos[0].startswith("weg"):
            server.transport.abort()
            return None
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp(settings, monkeypatch, request):
    from treu.messaging.services import outbox

    monkeypatch.setattr(outbox, "_wake_sender", lambda: None)  # the test sends
    recorder = getattr(request, "param", Recorder)()
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "treu.core.mail.SmtpBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = (
        "127.0.0.1",
        controller.server.sockets[0].getsockname()[1],
    )
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield recorder
    controller.stop()


def test_mails_go_over_smtp_marked_only_once_the_server_took_sender_and_recipient(smtp):
    services.enqueue_messages(
        [
            services.NewMessage(
                key="a", to_email="anna@example.de", subject="Hallo", text_body="x"
            ),
            services.NewMessage(
                key="b", to_email="niemand@example.de", subject="Hallo", text_body="x"
            ),
            services.NewMessage(
                key="c", to_email="ben@example.de", subject="Hallo", text_body="x",
                html_body="<p>x</p>",
            ),
        ]
    )  # fmt: skip
    result = services.send_due_messages()
    assert (result.sent, result.failed) == (2, 1)
    rows = {m.key: m for m in OutboundMessage.objects.all()}
    assert [mid for mid, _ in smtp.received] == [rows["a"].message_id, rows["c"].message_id]
    assert all(marked for _, marked in smtp.received)
    assert smtp.marked_at_rcpt == [False, False, False]  # not yet: the server may refuse
    refused = rows["b"]
    assert refused.status == MessageStatus.FAILED and not refused.handing_over
    assert "550" in refused.last_error
    assert Suppression.objects.filter(email="niemand@example.de").exists()
    assert {rows["a"].status, rows["c"].status} == {MessageStatus.SENT}


@pytest.mark.parametrize("smtp", [DropsDuringData], indirect=True)
def test_a_connection_that_breaks_during_the_data_makes_that_mail_unclear(smtp):
    services.enqueue_messages(
        [
            services.NewMessage(key="w", to_email="weg@example.de", subject="Hallo", text_body="x"),
            services.NewMessage(
                key="a", to_email="anna@example.de", subject="Hallo", text_body="x"
            ),
        ]
    )
    result = services.send_due_messages()
    assert (result.unclear, result.sent, result.retried) == (1, 1, 0)
    gone = OutboundMessage.objects.get(key="w")
    assert gone.status == MessageStatus.UNCLEAR and not gone.handing_over
    # Not queued again: the server may have taken it.
    assert services.send_due_messages().sent == 0
    assert [mid for mid, _ in smtp.received] == [OutboundMessage.objects.get(key="a").message_id]
