"""A real HTTP receiver on 127.0.0.1 for the webhook tests, and a clean kinds cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from treu.webhooks import services


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; answers with the queued replies, then with `default`.

    A reply is a status code, ("sleep", seconds) to time out, or ("redirect", url).
    """

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    replies: list = field(default_factory=list)
    default: int = 200

    def next_reply(self):
        return self.replies.pop(0) if self.replies else self.default


def _handler_for(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            reply = receiver.next_reply()
            if isinstance(reply, tuple) and reply[0] == "sleep":
                time.sleep(reply[1])
                reply = 200
            if isinstance(reply, tuple) and reply[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", reply[1])
                self.end_headers()
                return
            payload = b'{"ok": true}' if reply < 300 else b"kaputt"
            self.send_response(reply)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def receiver():
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(db, receiver):
    return services.endpoint_create(
        url=receiver.url,
        kinds=["customer.created", "order.ingested"],
        description="Warenwirtschaft",
    )
