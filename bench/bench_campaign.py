"""Benchmark: a real campaign of 100,000 personalised mails, sent over SMTP by two workers.

    psql -h 127.0.0.1 -U postgres -c "create database treu_bench_campaign"   # must be empty
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/treu_bench_campaign \\
        .venv/bin/python bench/bench_campaign.py
    .venv/bin/python bench/bench_campaign.py                    # fresh SQLite in a temp dir
    .venv/bin/python bench/bench_campaign.py --mails 5000 --no-kill

The issue's target: 100,000 personalised mails rendered and handed to a local SMTP server
(aiosmtpd, started by the benchmark) in under 5 minutes with two workers, zero
duplicates, and zero losses when one worker is killed mid-run and restarted.

0. setup (not timed): N customers with a confirmed double-opt-in consent (set-based
   writes, COPY on PostgreSQL), about a third of them members with points and a tier;
   a segment of everyone, refreshed (timed apart); the mail template through
   `save_mail_template` (heading, text, points balance, button — personalised with
   name, greeting, points and tier, each with its fallback); a campaign through
   `save_campaign`, due now (no control group, so that N mails go out). The sending
   rules are set to no cap and no quiet hours: the run does not depend on the hour.
1. render+write (timed): the campaign's send job, `messaging.services.run_campaign`:
   the segment refreshed, consent checked, the template rendered set-based in batches
   of 2,000, the unsubscribe frame and headers added, links rewritten for click
   tracking, outbox rows written;
2. send + kill + check: the machinery of `bench_outbox.py` — two worker processes
   drain the outbox into aiosmtpd; once a third went out, worker 1 is SIGKILLed and
   restarted; then every row is compared with what the server received.

Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import time as wall_time
from pathlib import Path

import bench_outbox

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 20_000
FIRST_NAMES = ["Anna", "Ben", "Cleo", "Dora", "Emil", "", "Greta", "Hannes", "Ilse", "Jonas"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-kill", action="store_true", help="Do not kill a worker.")
    parser.add_argument("--kill-at", type=float, default=1 / 3, help="Share sent before the kill.")
    parser.add_argument("--phases-apart", action="store_true", help=bench_outbox.PHASES_APART)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="treu-bench-campaign-"))
    os.environ["TREU_VAR_DIR"] = str(workdir)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "treu.settings"
    os.environ["MESSAGING_RATE_PER_MINUTE"] = "0"
    # The shop on its own host, as usual: its links go through the click redirect.
    os.environ.setdefault("TREU_SHOP_URL", "https://roesterei.example")
    sys.path.insert(0, str(ROOT))
    try:
        return run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def populate(customers: int, *, now) -> None:
    """Customers with an active, confirmed consent for their address; some members."""
    from django.db import transaction

    from treu.core.bulk import insert_rows
    from treu.customers.models import Customer
    from treu.loyalty.models import Member
    from treu.messaging import services
    from treu.messaging.models import Channel, Consent, ConsentSource, ConsentState, LegalBasis

    services.ensure_default_consent_texts()
    rng = random.Random(7)
    names, defaults = [], []
    for field in Customer._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(field.attname)
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        defaults.append(now if auto else field.get_default())
    pos = {n: i for i, n in enumerate(names)}
    consent_fields = [
        "customer_id", "channel", "address", "state", "legal_basis", "source", "frequency",
        "tracking", "signed_up_at", "confirmation_sent_at", "confirmed_at", "token_hash",
        "updated_at",
    ]  # fmt: skip
    for start in range(0, customers, CHUNK):
        rows = []
        for n in range(start + 1, min(start + CHUNK, customers) + 1):
            row = list(defaults)
            row[pos["number"]] = n
            row[pos["email"]] = f"kunde{n}@example.de"
            row[pos["first_name"]] = FIRST_NAMES[n % len(FIRST_NAMES)]
            row[pos["last_name"]] = f"Nr. {n}"
            rows.append(row)
        with transaction.atomic():
            ids = insert_rows(Customer, names, rows)
            insert_rows(
                Consent,
                consent_fields,
                [
                    (pk, Channel.EMAIL, f"kunde{start + i + 1}@example.de", ConsentState.ACTIVE,
                     LegalBasis.CONSENT, ConsentSource.PAGE, "all", i % 4 == 0, now, now, now,
                     "", now)
                    for i, pk in enumerate(ids)
                ],
                return_ids=False,
            )  # fmt: skip
            insert_rows(
                Member,
                ["customer_id", "joined_at", "points_balance", "pending_points", "credit_cents",
                 "created_at", "updated_at"],
                [(pk, now, rng.randrange(0, 2_000), 0, 0, now, now)
                 for pk in ids if rng.random() < 0.35],
                return_ids=False,
            )  # fmt: skip


TEMPLATE_BLOCKS = [
    {"type": "heading", "text": "Hallo {{ vorname|default:'liebe Kundin, lieber Kunde' }}!"},
    {
        "type": "text",
        "text": "{{ anrede }}, im Dezember rösten wir einen Kaffee aus Kolumbien: "
        "schokoladig, mit einer Note von Kirsche.\n\nAls **{{ stufe|default:'Mitglied' }}** "
        "sammeln Sie dafür doppelte Bohnen.",
    },
    {"type": "points", "text": "Sie haben {{ punkte }} {{ punktename }} gesammelt."},
    {"type": "button", "label": "Jetzt probieren", "url": "shop:/kaffee-des-monats"},
]


def prepare(mails: int, *, now):
    """The consenting customers, the rules, segment, template and a due campaign."""
    from treu.messaging import services
    from treu.messaging.models import Campaign, CampaignStatus
    from treu.messaging.segments import services as segment_services

    started = time.monotonic()
    populate(mails, now=now)
    print(f"setup         {mails:,} consenting customers in {time.monotonic() - started:.1f} s")
    services.save_sending_rules(weekly_cap=0, quiet_from=wall_time(0), quiet_until=wall_time(0))
    segment = segment_services.save_segment(
        name="Alle mit Newsletter", rules_tree={"version": 1, "match": "all", "groups": []}
    )
    started = time.monotonic()
    segment_services.refresh_segment(segment.pk)
    print(f"segment       refreshed in {time.monotonic() - started:.1f} s")
    template = services.save_mail_template(
        name="Kaffee des Monats Dezember",
        kind="marketing",
        subject="{{ vorname|default:'Hallo' }}, unser Kaffee des Monats ist da",
        preheader="Kolumbien, schokoladig – für {{ vorname|default:'Sie' }} frisch geröstet",
        blocks=TEMPLATE_BLOCKS,
    )
    campaign = services.save_campaign(
        data=services.CampaignInput(
            name="Kaffee des Monats", segment=segment, mail_template=template, control_percent=0
        )
    )
    # What `schedule_campaign` does for "send now", minus handing the job to huey: here the
    # job runs in this process, timed.
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SCHEDULED, due_at=now)
    return campaign


def run(args, workdir: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from treu.messaging import services
    from treu.messaging.models import OutboundMessage

    call_command("migrate", verbosity=0)
    if OutboundMessage.objects.exists():
        print("The database already holds outbox rows: use an empty one.", file=sys.stderr)
        return 2
    campaign = prepare(args.mails, now=timezone.now())

    def write() -> float:
        began, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)
        status = services.run_campaign(campaign.pk)
        used = resource.getrusage(resource.RUSAGE_SELF)
        seconds = used.ru_utime - cpu.ru_utime + used.ru_stime - cpu.ru_stime
        campaign.refresh_from_db()
        # On a shared machine the wall time says more about the neighbours than about treu.
        print(
            f"job cpu       {seconds:.1f} s of this process's CPU "
            f"({seconds * 1e6 / args.mails:.0f} µs a mail)"
        )
        print(
            f"campaign      {status}: audience {campaign.audience_count:,}, "
            f"without consent {campaign.without_consent_count}, at cap {campaign.at_cap_count}"
        )
        return time.monotonic() - began

    return bench_outbox.send_and_check(args, workdir, write)


if __name__ == "__main__":
    sys.exit(main())
