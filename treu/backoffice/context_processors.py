from __future__ import annotations

from treu.core import navigation as nav
from treu.core.roles import role_of


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = getattr(request, "staff_role", None) or role_of(user)
    return {"nav_items": navigation_items(user), "staff_role": role}


def navigation_items(user):
    return nav.items_for(user)
