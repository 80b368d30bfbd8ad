"""`python -m treu serve`: the web server and the background worker in one command.

For the local demo and small single-machine setups: one Ctrl-C stops both.
With DEBUG on (the demo) the web server is Django's runserver; with DEBUG off
it is gunicorn, a production WSGI server, behind your TLS proxy. If either
process dies, the other is stopped too and the command exits non-zero, so a
supervisor (or `make demo`) notices instead of serving a site whose jobs
silently never run.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser

POLL_SECONDS = 0.2
READY_TIMEOUT_SECONDS = 60
GRACE_SECONDS = 10
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Child:
    name: str
    process: subprocess.Popen

    @property
    def running(self) -> bool:
        return self.process.poll() is None


def _demo_logins_exist() -> bool:
    from treu.demo.logins import demo_logins_exist

    return demo_logins_exist()


class Command(BaseCommand):
    help = "Run the web server and the background worker together; Ctrl-C stops both."
    requires_system_checks = []  # the child processes run Django's checks themselves

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on.")
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="Web server processes with DEBUG off (gunicorn); default 2.",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the background worker (jobs then wait in the queue).",
        )

    def handle(self, *args, host: str, port: int, workers: int, no_worker: bool, **options) -> None:
        self._stop_requested = False
        previous = {sig: signal.signal(sig, self._request_stop) for sig in STOP_SIGNALS}
        children: list[Child] = []
        failed: Child | None = None
        if not settings.DEBUG:
            # Production pages link hashed static files listed in the manifest that
            # collectstatic writes; without it every page would fail.
            call_command("collectstatic", interactive=False, verbosity=0)
        try:
            if no_worker or settings.HUEY.get("immediate"):
                self.stdout.write("Background worker not started: jobs run inline or wait.")
            else:
                children.append(Child("worker", self._spawn("run_huey")))
            web = Child("web server", self._spawn(*self.web_command(host, port, workers)))
            children.append(web)

            if self._wait_until_listening(host, port, children):
                self._print_banner(host, port)
            failed = self._watch(children)
        finally:
            self._stop_all(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        if failed is not None:
            code = failed.process.returncode
            raise CommandError(
                f"The {failed.name} stopped unexpectedly (exit code {code}); "
                "the other process was stopped too."
            )
        self.stdout.write("treu stopped.")

    @staticmethod
    def web_command(host: str, port: int, workers: int) -> tuple[str, ...]:
        bracketed = f"[{host.strip('[]')}]" if ":" in host else host
        if settings.DEBUG:
            ipv6 = ("--ipv6",) if ":" in host else ()
            return ("runserver", "--noreload", *ipv6, f"{bracketed}:{port}")
        return (
            "gunicorn",
            "treu.wsgi:application",
            "--bind",
            f"{bracketed}:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
        )

    def _request_stop(self, signum, frame) -> None:
        self._stop_requested = True

    def _spawn(self, *command: str) -> subprocess.Popen:
        # A new session each, so a Ctrl-C in the terminal reaches only this
        # process, which then stops the children in order and waits for them.
        module = "gunicorn" if command[0] == "gunicorn" else "treu"
        argv = command[1:] if module == "gunicorn" else command
        return subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [sys.executable, "-m", module, *argv], start_new_session=True
        )

    def _wait_until_listening(self, host: str, port: int, children: list[Child]) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._stop_requested or not all(c.running for c in children):
                return False
            try:
                with socket.create_connection((host.strip("[]"), port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(POLL_SECONDS)
        self.stderr.write(f"The web server did not answer on {host}:{port} yet; still waiting.")
        return False

    def _print_banner(self, host: str, port: int) -> None:
        shown_host = f"[{host.strip('[]')}]" if ":" in host else host
        url = f"http://{shown_host}:{port}/"
        line = "=" * 64
        self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"treu is running: {url}"))
        if not settings.DEBUG and getattr(settings, "SECURE_SSL_REDIRECT", False):
            self.stdout.write(
                self.style.WARNING(
                    "DEBUG is off and SECURE_SSL_REDIRECT is on: plain http:// redirects to "
                    "https://. For a local try-out use `make demo` or set DEBUG=1."
                )
            )
        if "demo_logins" in get_commands():
            try:
                if _demo_logins_exist():
                    call_command("demo_logins", stdout=self.stdout, stderr=self.stderr)
            except Exception as exc:  # the banner must never stop the server
                self.stderr.write(f"(Could not list the demo logins: {exc})")
        self.stdout.write("Press Ctrl-C to stop the web server and the worker.")
        self.stdout.write(line)

    def _watch(self, children: list[Child]) -> Child | None:
        """Block until a stop is requested (None) or a child exits by itself (that child)."""
        while not self._stop_requested:
            for child in children:
                if not child.running:
                    return child
            time.sleep(POLL_SECONDS)
        return None

    def _stop_all(self, children: list[Child]) -> None:
        # SIGINT first: runserver exits quietly, huey finishes the tasks it is running.
        for sig, grace in ((signal.SIGINT, GRACE_SECONDS), (signal.SIGTERM, 5)):
            alive = [c for c in children if c.running]
            if not alive:
                return
            for child in alive:
                child.process.send_signal(sig)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and any(c.running for c in alive):
                time.sleep(POLL_SECONDS)
        for child in children:
            if child.running:
                self.stderr.write(f"The {child.name} did not stop; killing it.")
                child.process.kill()
                child.process.wait()
