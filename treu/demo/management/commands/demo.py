"""python -m treu demo: build the demo coffee roaster (see treu.demo.generator)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from treu.customers.models import Customer
from treu.demo.generator import DemoError, DemoOptions, build_demo, reset_demo
from treu.demo.logins import logins_table
from treu.demo.progress import Progress


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--until {text!r} is not a date like 2025-06-30.") from None


class Command(BaseCommand):
    help = (
        "Build the demo shop: a German coffee roaster with years of orders, returns and the "
        "staff logins printed at the end. Deterministic for the same --seed and --until."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--customers", type=int, default=2000, help="How many (default 2000).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument("--years", type=int, default=3, help="Years of history (default 3).")
        parser.add_argument(
            "--until",
            type=_day,
            default=None,
            help="The history ends before this day, YYYY-MM-DD (default: today).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has customers.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="First DELETE all customers, orders, returns and their history.",
        )
        parser.add_argument(
            "--not-production",
            action="store_true",
            help="Build even though DEBUG is off (a test or benchmark machine, never a real shop).",
        )

    def handle(self, *args, **opts) -> None:
        if not settings.DEBUG and not opts["not_production"]:
            # Fake customers and staff logins with a published password do not belong in a
            # real shop's database; `make demo` runs with DEBUG=1.
            raise CommandError(
                "DEBUG is off, so this looks like a real installation: the demo adds invented "
                "customers and staff logins with a published password. Run it with DEBUG=1 "
                "(as `make demo` does) or pass --not-production on a test machine."
            )
        if opts["reset"] and opts["if_empty"]:
            raise CommandError("Use either --reset or --if-empty, not both.")
        if opts["if_empty"] and Customer.objects.exists():
            self.stdout.write("The database already has customers; keeping them (--if-empty).")
            self._print_logins()
            return
        try:
            if opts["reset"]:
                reset_demo()
                self.stdout.write("Deleted the previous customers, orders and their history.")
            progress = Progress(opts["customers"], label="Demo customers")
            result = build_demo(
                DemoOptions(
                    customers=opts["customers"],
                    seed=opts["seed"],
                    years=opts["years"],
                    until=opts["until"],
                ),
                progress=progress.update,
            )
            progress.finish()
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Built the demo shop in {result.seconds:.1f} s: {result.customers} customers, "
                f"{result.orders} orders ({result.order_lines} lines), {result.returns} returns, "
                f"{result.notes} notes, {result.events} timeline events."
            )
        )
        self._print_logins()

    def _print_logins(self) -> None:
        url = settings.SITE_URL + reverse("backoffice:login")
        self.stdout.write(f"\nSign in at {url} (demo logins, never use them in production):\n")
        self.stdout.write(logins_table())
