"""The back office's navigation, filled by the apps themselves.

Each app registers its entries in its AppConfig.ready(), so the shell never
needs to know which apps exist; a user sees only what their role permits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import Promise

# The sections of the navigation in their order, each with its heading ("main": none).
SECTIONS: dict[str, Promise | str] = {
    "main": "",
    "loyalty": _("Loyalty programme"),
    "messaging": _("Messaging"),
    "system": _("System"),
}


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Promise | str
    url_name: str
    permission: str | None
    order: int = 100
    section: str = "main"

    @property
    def section_label(self) -> Promise | str:
        return SECTIONS.get(self.section, "")


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _items[item.key] = item


def items_for(user) -> list[NavItem]:
    visible = [i for i in _items.values() if i.permission is None or user.has_perm(i.permission)]
    sections = list(SECTIONS)
    return sorted(
        visible,
        key=lambda i: (sections.index(i.section) if i.section in sections else 0, i.order, i.key),
    )
