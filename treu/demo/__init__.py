"""The demo shop: a German coffee roaster with years of believable history.

`python -m treu demo` builds it; `python -m treu demo_logins` prints the staff
logins below. Only constants live here, so the Makefile and other apps can
import them without setting up Django's models.
"""

from __future__ import annotations

from dataclasses import dataclass

from treu.core.roles import CASHIER, MARKETING, OWNER, SUPPORT, Role

# Deliberately simple: these logins exist only in demo installations.
DEMO_PASSWORD = "treu-demo"  # noqa: S105


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    first_name: str
    last_name: str

    @property
    def password(self) -> str:
        return DEMO_PASSWORD

    @property
    def email(self) -> str:
        return f"{self.username}@roestkontor.example"


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("inhaberin", OWNER, "Ines", "Hartmann"),
    DemoLogin("marketing", MARKETING, "Mara", "Lindner"),
    DemoLogin("support", SUPPORT, "Sven", "Kruse"),
    DemoLogin("kasse", CASHIER, "Kai", "Brandt"),
)
