"""`python -m treu serve`: the web server and the worker live and die together.

The real runserver and huey consumer are replaced by tiny Python processes, so
these tests check the supervision, not Django's server.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from treu.core.management.commands import serve

SLEEPER = "import time; time.sleep(60)"

pytestmark = pytest.mark.django_db  # the banner looks up whether demo logins exist


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listener(port: int) -> str:
    return (
        "import socket, time; s = socket.socket(); "
        f"s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(60)"
    )


@pytest.fixture
def fake_children(monkeypatch, settings):
    """scripts[command] says what each child runs; started[command] is its process."""
    settings.DEBUG = True  # the demo's web server: runserver
    scripts: dict[str, str] = {}
    started: dict[str, subprocess.Popen] = {}

    def spawn(self, *command: str) -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", scripts[command[0]]], start_new_session=True
        )
        started[command[0]] = process
        return process

    monkeypatch.setattr(serve.Command, "_spawn", spawn)
    yield scripts, started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.wait()


def _signal_once_serving(signum: int) -> threading.Thread:
    """Send `signum` to this process as soon as serve's handler is installed, like a Ctrl-C."""

    def run() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            handler = signal.getsignal(signal.SIGTERM)
            if isinstance(getattr(handler, "__self__", None), serve.Command):
                time.sleep(0.5)
                os.kill(os.getpid(), signum)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_it_prints_the_address_and_stops_both_processes_on_a_signal(fake_children, signum):
    scripts, started = fake_children
    port = _free_port()
    scripts.update(run_huey=SLEEPER, runserver=_listener(port))
    out = io.StringIO()
    handler_before = signal.getsignal(signal.SIGTERM)

    _signal_once_serving(signum).join(timeout=0)
    call_command("serve", port=port, stdout=out)

    assert f"treu is running: http://127.0.0.1:{port}/" in out.getvalue()
    assert "treu stopped." in out.getvalue()
    assert all(process.poll() is not None for process in started.values())
    assert signal.getsignal(signal.SIGTERM) is handler_before


def test_it_stops_the_worker_and_fails_when_the_web_server_dies(fake_children):
    scripts, started = fake_children
    scripts.update(run_huey=SLEEPER, runserver="import sys; sys.exit(3)")

    with pytest.raises(CommandError, match=r"web server stopped unexpectedly \(exit code 3\)"):
        call_command("serve", port=_free_port(), stdout=io.StringIO())

    assert started["run_huey"].poll() is not None


def test_it_stops_the_web_server_and_fails_when_the_worker_dies(fake_children):
    scripts, started = fake_children
    port = _free_port()
    scripts.update(
        run_huey="import time, sys; time.sleep(1); sys.exit(1)", runserver=_listener(port)
    )

    with pytest.raises(CommandError, match=r"worker stopped unexpectedly \(exit code 1\)"):
        call_command("serve", port=port, stdout=io.StringIO())

    assert started["runserver"].poll() is not None


def test_it_runs_only_the_web_server_without_a_worker(fake_children):
    scripts, started = fake_children
    scripts.update(runserver="import sys; sys.exit(0)")

    with pytest.raises(CommandError, match="web server stopped"):
        call_command("serve", port=_free_port(), no_worker=True, stdout=io.StringIO())

    assert set(started) == {"runserver"}


def test_it_serves_with_gunicorn_when_debug_is_off(settings):
    settings.DEBUG = False
    command = serve.Command.web_command("192.0.2.1", 8000, 3)
    assert command[:2] == ("gunicorn", "treu.wsgi:application")
    assert command[command.index("--bind") + 1] == "192.0.2.1:8000"
    assert command[command.index("--workers") + 1] == "3"
    settings.DEBUG = True
    assert serve.Command.web_command("::1", 8000, 3) == (
        "runserver",
        "--noreload",
        "--ipv6",
        "[::1]:8000",
    )


@pytest.mark.django_db
def test_the_banner_lists_demo_logins_only_where_they_exist(settings):
    from treu.demo.logins import demo_logins_exist, ensure_demo_logins

    assert not demo_logins_exist()
    ensure_demo_logins()
    assert demo_logins_exist()
