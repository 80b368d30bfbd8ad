"""The demo's staff logins: one person per role, all with the documented demo password."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from treu.demo import DEMO_LOGINS, DemoLogin


@transaction.atomic
def ensure_demo_logins() -> dict[str, object]:
    """Create or repair the demo users; returns them by username.

    The password is set directly: the validators would rightly refuse it for
    real accounts, but a demo needs a password people can type from the README.
    """
    user_model = get_user_model()
    wanted = {d.role.group_name for d in DEMO_LOGINS}
    if Group.objects.filter(name__in=wanted).count() != len(wanted):
        from treu.backoffice.roles import sync_roles  # groups normally exist after migrate

        sync_roles()
    users = {}
    for login in DEMO_LOGINS:
        user, _ = user_model.objects.get_or_create(username=login.username)
        user.first_name, user.last_name, user.email = login.first_name, login.last_name, login.email
        user.is_active = True
        user.set_password(login.password)
        user.save()
        user.groups.set([Group.objects.get(name=login.role.group_name)])
        users[login.username] = user
    return users


def demo_logins_exist() -> bool:
    """Whether this installation has the demo staff (only then is the table worth showing)."""
    names = [d.username for d in DEMO_LOGINS]
    return get_user_model().objects.filter(username__in=names, is_active=True).exists()


def logins_table(logins: tuple[DemoLogin, ...] = DEMO_LOGINS) -> str:
    rows = [("Login", "Password", "Role")] + [
        (d.username, d.password, str(d.role.group_name)) for d in logins
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
