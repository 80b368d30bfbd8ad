"""Staff roles as Django groups, with permissions contributed by each app.

Apps call `grant()` in their AppConfig.ready(); after every migrate the
groups are brought in line with what was granted, so a new app's
permissions reach the roles without a data migration per app.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    key: str
    group_name: str  # stored in the database; kept stable
    label: object
    description: object


OWNER = Role(
    "owner", "Inhaber/Admin", _("Owner / admin"), _("Everything, including staff and settings.")
)
MARKETING = Role(
    "marketing", "Marketing", _("Marketing"), _("Customers, segments, loyalty and campaigns.")
)
SUPPORT = Role("support", "Support", _("Support"), _("Customers, orders, returns and tickets."))
CASHIER = Role("cashier", "Kasse", _("Cashier"), _("The in-store cashier screen."))
ROLES: tuple[Role, ...] = (OWNER, MARKETING, SUPPORT, CASHIER)

_grants: dict[str, set[str]] = defaultdict(set)


def grant(role: Role, *permissions: str) -> None:
    """Give a role permissions ("app_label.codename"). The owner role gets every treu permission."""
    _grants[role.key].update(permissions)


def granted(role: Role) -> set[str]:
    return set(_grants[role.key])


def role_of(user) -> Role | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return OWNER
    names = {g.name for g in user.groups.all()}
    for role in ROLES:
        if role.group_name in names:
            return role
    return None


def owner_addresses() -> list[str]:
    """Email addresses of the active owners (and superusers): who hears about the business."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    owners = users.filter(Q(groups__name=OWNER.group_name) | Q(is_superuser=True)).distinct()
    return sorted({u.email for u in owners})
