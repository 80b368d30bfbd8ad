"""Blocks that apps add to another app's page: the customer's 360° page, a product page.

The page's own app calls `render(page, request, obj)` and places the returned HTML in a
fixed spot; each contributing app registers a `Panel` in its AppConfig.ready(), so the page
never imports the apps that extend it (the same idea as the navigation registry). A user
sees only panels whose permission they hold; a panel whose `context` returns None is left
out (nothing to show for this object).

Pages so far: "customer" (customers:detail, the side column) and "product"
(commerce:product_detail, below the details).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[[Any, Any], dict | None]  # (request, obj) -> template context
    permission: str | None
    order: int = 100


_panels: dict[str, dict[str, Panel]] = {}


def register(page: str, panel: Panel) -> None:
    _panels.setdefault(page, {})[panel.key] = panel


def panels_for(page: str, user) -> list[Panel]:
    visible = [
        p
        for p in _panels.get(page, {}).values()
        if p.permission is None or user.has_perm(p.permission)
    ]
    return sorted(visible, key=lambda p: (p.order, p.key))


def render(page: str, request, obj) -> list[SafeString]:
    """The HTML of every panel of `page` this user may see and that has something to show."""
    out = []
    for panel in panels_for(page, request.user):
        context = panel.context(request, obj)
        if context is not None:
            html = render_to_string(panel.template, context, request=request)
            out.append(mark_safe(html))  # noqa: S308 - rendered by our own template engine
    return out
