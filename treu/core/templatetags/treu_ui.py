"""Small presentation helpers for treu's templates: euros, German dates, percentages, icons."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from treu.core.money import format_euro

register = template.Library()


@register.filter
def eur(cents) -> str:
    """Integer cents as German euros: 123456 -> '1.234,56 €'; None or '' -> '–'."""
    if cents in (None, ""):
        return "–"
    return format_euro(int(cents))


def _local(value):
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


@register.filter
def de_date(value) -> str:
    """A date (or datetime, in local time) the way Germans write it: 31.12.2025."""
    if not isinstance(value, date):
        return ""
    return _local(value).strftime("%d.%m.%Y")


@register.filter
def de_datetime(value) -> str:
    """31.12.2025, 14:05 in the business's time zone."""
    if not isinstance(value, datetime):
        return de_date(value)
    return _local(value).strftime("%d.%m.%Y, %H:%M")


@register.filter
def percent(ratio, decimals: int = 1) -> str:
    """A ratio (0.125) as a localised percentage ('12,5 %'); None -> '–'."""
    if ratio in (None, ""):
        return "–"
    value = formats.number_format(float(ratio) * 100, decimal_pos=int(decimals), use_l10n=True)
    return f"{value}\u00a0%"


@register.filter
def signed_percent(ratio) -> str:
    """A change as '+12,5 %' or '−3,0 %'; None (nothing to compare with) -> '–'."""
    if ratio in (None, ""):
        return "–"
    text = percent(abs(float(ratio)))
    if float(ratio) > 0:
        return f"+{text}"
    if float(ratio) < 0:
        return f"\u2212{text}"
    return text


@register.filter
def days_since(value) -> int | None:
    """Whole days from a date or datetime until today (local time)."""
    if not isinstance(value, date):
        return None
    day = _local(value).date() if isinstance(value, datetime) else value
    return (timezone.localdate() - day).days


@register.simple_tag(takes_context=True)
def nav_active(context, url_name: str) -> str:
    """'active' when the current page lives under this navigation entry's address."""
    request = context.get("request")
    if request is None:
        return ""
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return ""
    items = context.get("nav_items")
    if not items:  # a page without the navigation list: this entry on its own
        matches = request.path == "/" if url == "/" else request.path.startswith(url)
        return "active" if matches else ""
    return "active" if url == _current_entry(request, items) else ""


def _current_entry(request, items) -> str | None:
    """The address of the one entry the page belongs to: the longest that prefixes its path.

    Entries nest (Kundenbindung at /loyalty/, its stamp cards at /loyalty/stamp-cards/):
    only the closest is marked, not every entry above it.
    """
    cached = getattr(request, "_treu_nav_entry", False)
    if cached is not False:
        return cached
    best = None
    for item in items:
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        matches = request.path == "/" if url == "/" else request.path.startswith(url)
        if matches and (best is None or len(url) > len(best)):
            best = url
    request._treu_nav_entry = best
    return best


# Simple line icons (24×24, stroke = currentColor), drawn for treu; no icon font, no CDN.
_ICONS = {
    "order": '<path d="M6 7h12l-1 13H7L6 7z"/><path d="M9 7a3 3 0 0 1 6 0"/>',
    "return": '<path d="M9 14l-5-5 5-5"/><path d="M4 9h11a5 5 0 0 1 0 10h-3"/>',
    "cancel": '<circle cx="12" cy="12" r="9"/><path d="M9 9l6 6M15 9l-6 6"/>',
    "star": '<path d="M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2L12 17.3 6.5 20.2l1-6.2L3 9.6l6.2-.9z"/>',
    "edit": '<path d="M4 20h4L19 9l-4-4L4 16v4z"/><path d="M13 7l4 4"/>',
    "merge": '<path d="M7 4v5a5 5 0 0 0 5 5h5"/><path d="M7 20v-6"/><path d="M14 11l3 3-3 3"/>',
    "note": '<path d="M5 4h10l4 4v12H5z"/><path d="M9 12h6M9 16h4"/>',
    "mail": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>',
    "gift": '<rect x="3" y="8" width="18" height="5"/><path d="M5 13v8h14v-8M12 8v13"/>'
    '<path d="M12 8c-2-4-6-4-6-1s6 1 6 1 6 2 6-1-4-3-6 1z"/>',
    "dot": '<circle cx="12" cy="12" r="4"/>',
}


@register.simple_tag
def icon(name: str, label: str = ""):
    """An inline SVG icon; decorative unless a label is given."""
    paths = _ICONS.get(name, _ICONS["dot"])
    if label:
        return format_html(
            '<svg class="icon" viewBox="0 0 24 24" role="img" aria-label="{}">{}</svg>',
            label,
            mark_safe(paths),  # noqa: S308 - constant markup defined above
        )
    return mark_safe(  # noqa: S308 - constant markup defined above
        f'<svg class="icon" viewBox="0 0 24 24" aria-hidden="true">{paths}</svg>'
    )


@register.filter
def vat_rate(basis_points) -> str:
    """VAT rate in basis points as a percentage: 1900 -> '19 %', 550 -> '5,5 %'."""
    if basis_points in (None, ""):
        return "–"
    bp = int(basis_points)
    decimals = 0 if bp % 100 == 0 else (1 if bp % 10 == 0 else 2)
    value = formats.number_format(bp / 100, decimal_pos=decimals, use_l10n=True)
    return f"{value}\u00a0%"
