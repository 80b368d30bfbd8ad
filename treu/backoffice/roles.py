from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from treu.core.roles import OWNER, ROLES, granted

# Django's own apps whose permissions the owner needs (staff management).
OWNER_EXTRA_APPS = ("auth",)


@transaction.atomic
def sync_roles() -> None:
    """Create the role groups and set their permissions to exactly what the apps granted."""
    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.group_name)
        if role is OWNER:
            wanted = [
                p
                for label, p in all_perms.items()
                if label.split(".")[0] in _treu_app_labels()
                or label.split(".")[0] in OWNER_EXTRA_APPS
            ]
        else:
            unknown = granted(role) - all_perms.keys()
            if unknown:
                raise LookupError(
                    f"Role {role.key!r} is granted unknown permissions: {sorted(unknown)}"
                )
            wanted = [all_perms[label] for label in sorted(granted(role))]
        group.permissions.set(wanted)


def _treu_app_labels() -> set[str]:
    from django.apps import apps

    return {c.label for c in apps.get_app_configs() if c.name.startswith("treu.")}


def sync_roles_after_migrate(sender, **kwargs) -> None:
    from django.apps import apps

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if with_models and sender is with_models[-1]:
        sync_roles()
