"""Benchmark: a campaign's mails rendered, written to the outbox and sent over SMTP by two workers.

    .venv/bin/python bench/bench_outbox.py                      # 100,000 mails, fresh SQLite
    psql -h 127.0.0.1 -U postgres -c "create database treu_bench_outbox"   # must be empty
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench_outbox \\
        .venv/bin/python bench/bench_outbox.py
    .venv/bin/python bench/bench_outbox.py --mails 5000 --no-kill

The issue's target: 100,000 personalised mails rendered and handed to a local SMTP server
(aiosmtpd, started here in its own process) in under 5 minutes with two workers, zero
duplicates, and zero losses when one worker is killed mid-run and restarted.

1. render:  each mail's subject, text and HTML from a Django template with the
            recipient's name (and the documented fallback when a name is missing), written
            to the outbox with `messaging.services.enqueue_messages` in batches of 1,000;
2. send:    two worker processes run `messaging.services.drain_outbox` against the SMTP
            server (Django's SMTP backend, one connection per batch), no rate limit;
3. kill:    once a third of the mails went out, worker 1 is killed with SIGKILL and started
            again a second later. Its claimed rows come back after the lease (60 s): those
            it had not begun to hand over are sent by the others, the one it was handing
            over (if any) becomes "unclear".

Then every row's status is compared with what the SMTP server received (by Message-ID):
duplicates (a Message-ID received twice) and losses (a row marked sent that never
arrived, or a row neither received nor marked unclear) must both be zero. An unclear row
the server did receive is counted apart: treu flags it for the owner instead of sending it
twice. Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 300.0
PHASES_APART = "Start both workers only after the job, to time render and send apart."

SUBJECT = "{{ vorname|default:'Hallo' }}, unser Kaffee des Monats ist da"
TEXT = """Hallo {{ vorname|default:"liebe Kundin, lieber Kunde" }},

im {{ monat }} rösten wir einen Kaffee aus {{ herkunft }}: schokoladig, mit einer Note von
Kirsche. Als {{ stufe|default:"Mitglied" }} sammeln Sie dafür doppelte Bohnen.

Herzliche Grüße aus der Rösterei
"""
HTML = """<!DOCTYPE html><html lang="de"><body style="font-family:Helvetica,Arial,sans-serif">
<h1 style="font-size:20px">Hallo {{ vorname|default:"liebe Kundin, lieber Kunde" }},</h1>
<p>im {{ monat }} rösten wir einen Kaffee aus {{ herkunft }}: schokoladig, mit einer Note
von Kirsche. Als {{ stufe|default:"Mitglied" }} sammeln Sie dafür doppelte Bohnen.</p>
<p><a href="{{ link }}" style="background:#6b4226;color:#fff;padding:10px 16px">Jetzt
probieren</a></p></body></html>"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-kill", action="store_true", help="Do not kill a worker.")
    parser.add_argument("--kill-at", type=float, default=1 / 3, help="Share sent before the kill.")
    parser.add_argument("--phases-apart", action="store_true", help=PHASES_APART)
    parser.add_argument("--smtp-server", nargs=2, metavar=("PORT", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smtp_server:
        return smtp_server(int(args.smtp_server[0]), Path(args.smtp_server[1]))
    if args.worker:
        return worker()
    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-outbox-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "treu.settings"
    os.environ["MESSAGING_RATE_PER_MINUTE"] = "0"
    sys.path.insert(0, str(ROOT))
    try:
        return run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def smtp_server(port: int, out: Path) -> int:
    """A local SMTP server that writes each received Message-ID to a file, one a line."""
    from aiosmtpd.controller import Controller

    sink = out.open("a", buffering=1)

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
            for line in envelope.content.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    sink.write(line.split(b":", 1)[1].strip().decode() + "\n")
                    break
                if not line:
                    break
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    return 0


def worker() -> int:
    """Send until every row is done and the writer has finished; waits for a dead worker's
    rows to come back. Polls where production is woken by each committed batch."""
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "treu.core.mail.SmtpBackend"  # what EMAIL_URL=smtp:// sets
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(os.environ["BENCH_SMTP_PORT"])
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    from treu.messaging.models import MessageStatus, OutboundMessage
    from treu.messaging.services import drain_outbox

    written = Path(os.environ["BENCH_WRITTEN_FLAG"])
    open_states = [MessageStatus.QUEUED, MessageStatus.SENDING]
    while True:
        done_writing = written.exists()  # before draining: nothing new comes after it
        drain_outbox(seconds=3600)
        if done_writing and not OutboundMessage.objects.filter(status__in=open_states).exists():
            return 0
        time.sleep(0.2)  # the next batch, or a dead worker's rows back after their lease


class _Tally:
    """Counts the lines of a file that only grows, reading each byte once."""

    def __init__(self, path: Path) -> None:
        self.file, self.count = path.open("rb"), 0

    def lines(self) -> int:
        self.count += self.file.read().count(b"\n")
        return self.count


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_and_write(mails: int) -> float:
    from django.template import Context, Template

    from treu.messaging.services import NewMessage, enqueue_messages

    subject, text, html = Template(SUBJECT), Template(TEXT), Template(HTML)
    names = ["Anna", "Ben", "Cleo", "Dora", "Emil", "", "Greta", "Hannes", "Ilse", "Jonas"]
    origins = ["Äthiopien", "Kolumbien", "Brasilien", "Guatemala"]
    started = time.monotonic()
    for start in range(0, mails, 1000):
        batch = []
        for n in range(start, min(start + 1000, mails)):
            context = Context(
                {
                    "vorname": names[n % len(names)],
                    "monat": "Dezember",
                    "herkunft": origins[n % len(origins)],
                    "stufe": "Gold-Mitglied" if n % 7 == 0 else "",
                    "link": f"https://roesterei.example/kaffee-des-monats?k={n}",
                }
            )
            batch.append(
                NewMessage(
                    key=f"campaign:1:customer:{n}",
                    to_email=f"kunde{n}@example.de",
                    subject=subject.render(context),
                    text_body=text.render(context),
                    html_body=html.render(context),
                )
            )
        enqueue_messages(batch)
    return time.monotonic() - started


def run(args, workdir: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from treu.messaging.models import OutboundMessage

    call_command("migrate", verbosity=0)
    if OutboundMessage.objects.exists():
        print("The database already holds outbox rows: use an empty one.", file=sys.stderr)
        return 2
    return send_and_check(args, workdir, lambda: render_and_write(args.mails))


def send_and_check(args, workdir: Path, write) -> int:
    """Start the SMTP server, `write()` the mails (its seconds are the render phase), send
    them with the workers (killing one), and compare what the server received.

    As in production, where the job runs in one of the workers and every batch it commits
    wakes the others: worker 2 sends from the first committed batch on while the job
    renders in this process, which stands for worker 1; worker 1 joins the sending once
    the job is done. With --phases-apart both start after the job, to time the two apart.
    """
    from django.db import connection

    from treu.messaging.models import MessageStatus, OutboundMessage

    port = _free_port()
    received_file = workdir / "received.txt"
    received_file.touch()
    written = workdir / "written"
    me = [sys.executable, str(Path(__file__).resolve())]  # bench_outbox.py, whoever calls
    server = subprocess.Popen(  # noqa: S603 - this very script, with our own arguments
        [*me, "--smtp-server", str(port), str(received_file)]
    )
    env = {**os.environ, "BENCH_SMTP_PORT": str(port), "BENCH_WRITTEN_FLAG": str(written)}
    print(f"database      {connection.vendor} ({connection.settings_dict['NAME']})")
    print(
        f"load average  {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )

    def start_worker():
        return subprocess.Popen([*me, "--worker"], env=env)  # noqa: S603 - this very script

    workers: list[subprocess.Popen] = []
    try:
        time.sleep(1.0)  # the server is listening
        started = time.monotonic()
        if not args.phases_apart:
            workers = [start_worker() for _ in range(args.workers - 1)]
        rendered = write()
        written.touch()
        connection.close()
        sent_meanwhile = OutboundMessage.objects.filter(status=MessageStatus.SENT).count()
        rate = args.mails / rendered
        print(f"render+write  {args.mails:,} mails in {rendered:.1f} s ({rate:,.0f}/s)")
        if not args.phases_apart:
            print(f"meanwhile     {sent_meanwhile:,} sent by {len(workers)} worker(s)")
        sending_from = time.monotonic()
        workers += [start_worker() for _ in range(args.workers - len(workers))]
        killed_at = None
        received_so_far = _Tally(received_file)
        while any(w.poll() is None for w in workers):
            time.sleep(0.2)
            if killed_at is None and not args.no_kill:
                # What the server received, not a count over the outbox: polling the
                # database five times a second would compete with the workers for it.
                sent = received_so_far.lines()
                if sent >= args.mails * args.kill_at:
                    workers[0].send_signal(signal.SIGKILL)
                    workers[0].wait()
                    killed_at = time.monotonic() - started
                    print(
                        f"kill          worker 1 killed after {killed_at:.1f} s "
                        f"({sent:,} received by the server)"
                    )
                    time.sleep(1.0)
                    workers[0] = start_worker()
        finished = time.monotonic()
        sending = finished - sending_from
        total = finished - started
        failed_workers = [w.returncode for w in workers if w.returncode]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    received = Counter(line for line in received_file.read_text().splitlines() if line)
    rows = dict(OutboundMessage.objects.values_list("message_id", "status"))
    statuses = Counter(rows.values())
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    unclear = [mid for mid, status in rows.items() if status == MessageStatus.UNCLEAR]
    lost = [
        mid
        for mid, status in rows.items()
        if mid not in received and status != MessageStatus.UNCLEAR
    ]
    marked_not_received = [
        mid for mid, status in rows.items() if status == MessageStatus.SENT and mid not in received
    ]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = args.mails / total
    print(f"send          {sending:.1f} s more after the job with {args.workers} workers")
    print(f"statuses      {dict(statuses)}")
    print(
        f"smtp server   {sum(received.values()):,} received, {len(received):,} distinct Message-IDs"
    )
    print(f"duplicates    {duplicates}")
    print(
        f"unclear       {len(unclear)} (received by the server: "
        f"{sum(1 for mid in unclear if mid in received)})"
    )
    print(f"lost          {len(lost)} (marked sent but not received: {len(marked_not_received)})")
    print(
        f"total         {total:.1f} s from the job's start to the last mail handed over "
        f"({rate:,.0f} mails/s; target < {TARGET_SECONDS:.0f} s); peak memory {peak:.0f} MiB"
    )
    print(f"load average  {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    ok = not failed_workers and duplicates == 0 and not lost and total < TARGET_SECONDS
    print("target        " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
