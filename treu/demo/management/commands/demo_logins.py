"""python -m treu demo_logins: print the demo's staff logins (for `make demo`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from treu.demo.logins import logins_table


class Command(BaseCommand):
    help = "Print the demo staff logins (one per role) and their password."
    requires_system_checks = []

    def handle(self, *args, **opts) -> None:
        self.stdout.write(logins_table())
