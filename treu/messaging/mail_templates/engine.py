"""The sandboxed Django template engine for personalised subjects and texts.

An own `Engine` with no loaders (nothing can be read from disk), none of Django's default
builtins (no `{% load %}`, `{% include %}`, `{% extends %}`, `{% debug %}`), only the tags
and filters of `sandbox_library`, and autoescaping on. The context holds plain strings and
numbers only, so a template reaches nothing beyond them; names starting with "_" are refused
by Django itself. A missing variable renders empty (or its `default:` fallback).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

# The variables a template may use, with what each means (shown in the editor).
VARIABLES = {
    "vorname": "first name",
    "nachname": "last name",
    "anrede": "greeting",
    "punkte": "points",
    "punktename": "point name",
    "stufe": "tier",
    "shopname": "shop name",
    "gutschein": "coupon",
}


class SandboxEngine(Engine):
    default_builtins: list[str] = []


@lru_cache(maxsize=1)
def engine() -> Engine:
    return SandboxEngine(
        dirs=[],
        app_dirs=False,
        loaders=[],
        libraries={},
        builtins=["treu.messaging.mail_templates.sandbox_library"],
        autoescape=True,
        debug=True,  # syntax errors carry the line they are on
        string_if_invalid="",
    )


@dataclass(frozen=True)
class SyntaxProblem:
    line: int
    reason: str  # German, for the editor


_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"Invalid block tag on line \d+: '([^']*)'"), "unknown_tag"),
    (re.compile(r"Invalid filter: '([^']*)'"), "unknown_filter"),
    (re.compile(r"Unclosed tag on line \d+: '([^']*)'"), "unclosed"),
    (re.compile(r"Could not parse the remainder: '([^']*)'"), "remainder"),
    (re.compile(r"Variables and attributes may not begin with underscores"), "underscore"),
    (re.compile(r"Empty variable tag"), "empty"),
    (re.compile(r"Unexpected end of expression in if tag|in if tag"), "condition"),
]


def _german_reason(message: str) -> str:
    for pattern, kind in _PATTERNS:
        match = pattern.search(message)
        if not match:
            continue
        word = match.group(1) if match.groups() else ""
        if kind == "unknown_tag":
            return _("the command “{%% %(tag)s %%}” is unknown or not allowed here") % {"tag": word}
        if kind == "unknown_filter":
            return _("the filter “%(filter)s” is unknown or not allowed here") % {"filter": word}
        if kind == "unclosed":
            return _("“{%% %(tag)s %%}” is never closed") % {"tag": word}
        if kind == "remainder":
            return _("cannot read “%(text)s”") % {"text": word}
        if kind == "condition":
            return _("the condition of “{%% if %%}” is incomplete or not understood")
        if kind == "underscore":
            return _("names may not begin with an underscore")
        return _("“{{ }}” holds no variable")
    return _("the template syntax is wrong (%(detail)s)") % {"detail": message}


def check(source: str) -> SyntaxProblem | None:
    """None if the source compiles in the sandbox, else the line and a German reason."""
    try:
        compile_source(source)
    except TemplateSyntaxError as error:
        info = getattr(error, "template_debug", None) or {}
        return SyntaxProblem(int(info.get("line") or 1), _german_reason(str(error)))
    return None


def compile_source(source: str) -> Template:
    return Template(source, engine=engine())


def render(template: Template, context: dict[str, object], *, autoescape: bool = True) -> str:
    """Render with a plain dict; never raises (a template that compiled renders, at worst
    empty where a filter failed at run time)."""
    try:
        return template.render(Context(context, autoescape=autoescape))
    except Exception:  # a run-time failure must not stop a send
        log.exception("mail template rendering failed")
        return ""
