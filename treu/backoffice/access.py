"""Access helpers shared by every back-office view and its tests."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from treu.core.roles import role_of


def staff_view(permission: str | None = None):
    """Anonymous users go to the login; logged-in users without a role or the permission get 403.

    `permission` is "app_label.codename"; None means any staff role may see it.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = role_of(user)
            if not user.is_active or role is None:
                raise PermissionDenied
            request.staff_role = role  # the shell shows it; saves asking the database again
            if permission is not None and not user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.staff_permission = permission  # read by the URL-walking access test
        return wrapper

    return decorator
