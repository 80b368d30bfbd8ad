"""The rule tree of a segment: its JSON schema, validation with German errors, and its
translation into one queryset of customers.

    {"version": 1, "match": "all" | "any",
     "groups": [{"match": "all" | "any",
                 "conditions": [{"field": "order_count", "op": "gte", "value": 3}, …]}, …]}

The top level combines its groups, each group its conditions ("all" = AND, "any" = OR):
one level of nesting, enough for "(A and B) or (C and D)". No groups means every customer.
Values are stored normalised: whole numbers (counts, cents, days), ISO dates, lists of
choice values as text, and trimmed text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.customers import selectors as customer_selectors
from treu.messaging.segments import fields as F

VERSION = 1
MATCHES = ("all", "any")
MAX_GROUPS = 20
MAX_CONDITIONS = 50
MAX_CHOICES = 200


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rule tree; `group`/`condition` are 0-based, None for the whole."""

    message: str
    group: int | None = None
    condition: int | None = None

    def __str__(self) -> str:
        if self.group is None:
            return self.message
        if self.condition is None:
            return _("Group %(group)d: %(message)s") % {
                "group": self.group + 1,
                "message": self.message,
            }
        return _("Group %(group)d, condition %(condition)d: %(message)s") % {
            "group": self.group + 1,
            "condition": self.condition + 1,
            "message": self.message,
        }


class RuleError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    @property
    def messages(self) -> list[str]:
        return [str(p) for p in self.problems]


def normalise(tree: Any) -> dict:
    """The tree in its stored form, or RuleError listing everything that is wrong.

    Groups without conditions are dropped (the editor leaves them behind).
    """
    problems: list[Problem] = []
    if not isinstance(tree, dict):
        raise RuleError([Problem(_("The rules must be an object with groups."))])
    unknown = set(tree) - {"version", "match", "groups"}
    if unknown:
        problems.append(
            Problem(_("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(map(str, unknown)))})
        )
    if tree.get("version", VERSION) != VERSION:
        problems.append(Problem(_("Unknown rules version %(v)s.") % {"v": tree.get("version")}))
    match = tree.get("match", "all")
    if match not in MATCHES:
        problems.append(Problem(_("Combine the groups with “all” or “any”.")))
    groups = tree.get("groups", [])
    if not isinstance(groups, list):
        raise RuleError([*problems, Problem(_("The groups must be a list."))])
    if len(groups) > MAX_GROUPS:
        problems.append(Problem(_("At most %(n)d groups.") % {"n": MAX_GROUPS}))
    out_groups = []
    total = 0
    for g, group in enumerate(groups):
        if not isinstance(group, dict):
            problems.append(Problem(_("A group must be an object with conditions."), g))
            continue
        if set(group) - {"match", "conditions"}:
            problems.append(Problem(_("A group holds only “match” and “conditions”."), g))
        group_match = group.get("match", "all")
        if group_match not in MATCHES:
            problems.append(Problem(_("Combine the conditions with “all” or “any”."), g))
        conditions = group.get("conditions", [])
        if not isinstance(conditions, list):
            problems.append(Problem(_("The conditions must be a list."), g))
            continue
        out_conditions = []
        for c, condition in enumerate(conditions):
            total += 1
            try:
                out_conditions.append(normalise_condition(condition))
            except ValueError as error:
                problems.append(Problem(str(error), g, c))
        if out_conditions:
            out_groups.append({"match": group_match, "conditions": out_conditions})
    if total > MAX_CONDITIONS:
        problems.append(Problem(_("At most %(n)d conditions.") % {"n": MAX_CONDITIONS}))
    if problems:
        raise RuleError(problems)
    return {"version": VERSION, "match": match, "groups": out_groups}


def normalise_condition(condition: Any) -> dict:
    """One condition in stored form; ValueError with a German message if it is wrong."""
    if not isinstance(condition, dict) or set(condition) - {"field", "op", "value"}:
        raise ValueError(_("A condition holds “field”, “op” and “value”."))
    key = condition.get("field")
    rule_field = F.get_field(key) if isinstance(key, str) else None
    if rule_field is None:
        raise ValueError(_("Unknown field “%(field)s”.") % {"field": key})
    op = condition.get("op")
    if op not in rule_field.allowed_operators:
        allowed = ", ".join(f"„{F.OPERATOR_LABELS[o]}“" for o in rule_field.allowed_operators)
        raise ValueError(
            _("“%(field)s” cannot be compared with “%(op)s”; possible: %(allowed)s.")
            % {"field": rule_field.label, "op": op, "allowed": allowed}
        )
    value = _normalise_value(rule_field, op, condition.get("value"))
    return {"field": key, "op": op, "value": value}


def _whole(value: Any, *, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(_("%(what)s must be a whole number.") % {"what": what})
    try:
        number = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise ValueError(_("%(what)s must be a whole number.") % {"what": what}) from None
    if not low <= number <= high:
        raise ValueError(
            _("%(what)s must be between %(low)s and %(high)s.")
            % {"what": what, "low": low, "high": high}
        )
    return number


def _normalise_value(rule_field: F.RuleField, op: str, value: Any):
    kind = rule_field.kind
    if kind == F.NUMBER:
        return _whole(value, low=0, high=F.MAX_NUMBER, what=_("The number"))
    if kind == F.MONEY:
        return _whole(value, low=0, high=F.MAX_NUMBER, what=_("The amount in cents"))
    if kind == F.DAYS:
        return _whole(value, low=1, high=F.MAX_DAYS, what=_("The number of days"))
    if kind == F.RECENCY:
        if op in (F.WITHIN_DAYS, F.NOT_WITHIN_DAYS):
            return _whole(value, low=1, high=F.MAX_DAYS, what=_("The number of days"))
        if isinstance(value, date | datetime):
            value = value.isoformat()[:10]
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except (AttributeError, ValueError):
            raise ValueError(_("Enter a date such as 2026-03-31.")) from None
    if kind == F.CHOICE:
        if isinstance(value, str | int):
            value = [value]
        if not isinstance(value, list) or not value:
            raise ValueError(_("Choose at least one value."))
        if len(value) > MAX_CHOICES:
            raise ValueError(_("At most %(n)d values.") % {"n": MAX_CHOICES})
        wanted = [str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool)]
        if len(wanted) != len(value):
            raise ValueError(_("Choose values from the list."))
        known = {v for v, _label in rule_field.choice_list()}
        missing = [v for v in wanted if v not in known]
        if missing:
            raise ValueError(
                _("Unknown value for “%(field)s”: %(values)s.")
                % {"field": rule_field.label, "values": ", ".join(missing[:5])}
            )
        return sorted(set(wanted), key=wanted.index)
    if kind in (F.PREFIX, F.TEXT):
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise ValueError(_("Enter a text."))
        limit = rule_field.extra.get("max_length", 100)
        if len(text) > limit:
            raise ValueError(_("At most %(n)d characters.") % {"n": limit})
        return text
    raise ValueError(_("Unknown field “%(field)s”.") % {"field": rule_field.key})


# -- Compiling --------------------------------------------------------------------------------


def condition_q(condition: dict, ctx: F.RuleContext) -> Q:
    rule_field = F.get_field(condition["field"])
    if rule_field is None:  # a field whose app is gone: nobody matches rather than everybody
        raise RuleError([Problem(_("Unknown field “%(field)s”.") % {"field": condition["field"]})])
    return rule_field.compile(condition["op"], condition["value"], ctx)


def _combine(parts: list[Q], match: str) -> Q:
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if match == "all" else combined | part
    return combined


def tree_q(tree: dict, ctx: F.RuleContext) -> Q:
    """The whole (normalised) tree as one Q over customers."""
    groups = [
        _combine([condition_q(c, ctx) for c in group["conditions"]], group["match"])
        for group in tree["groups"]
    ]
    return _combine(groups, tree["match"]) if groups else Q()


def members(tree: dict, *, now: datetime | None = None) -> QuerySet:
    """The customers the (normalised) tree holds, erased ones never: one query."""
    ctx = F.RuleContext(now=now or timezone.now())
    return customer_selectors.segmentable_customers().filter(tree_q(tree, ctx))


# -- Reading ----------------------------------------------------------------------------------


def describe_condition(condition: dict) -> str:
    """A condition in words, for lists and the detail page."""
    rule_field = F.get_field(condition["field"])
    if rule_field is None:
        return _("Unknown field “%(field)s”") % {"field": condition["field"]}
    op, value = condition["op"], condition["value"]
    label, op_label = str(rule_field.label), str(F.OPERATOR_LABELS.get(op, op))
    if rule_field.kind == F.MONEY:
        from treu.core.money import format_euro

        shown = format_euro(value)
    elif rule_field.kind == F.DAYS or (
        rule_field.kind == F.RECENCY and op in (F.WITHIN_DAYS, F.NOT_WITHIN_DAYS)
    ):
        op_label = op_label.replace("…", str(value))
        return f"{label}: {op_label}"
    elif rule_field.kind == F.RECENCY:
        shown = date.fromisoformat(value).strftime("%d.%m.%Y")
    elif rule_field.kind == F.CHOICE:
        names = dict(rule_field.choice_list())
        shown = ", ".join(names.get(v, v) for v in value)
    else:
        shown = str(value)
    return f"{label} {op_label} {shown}"


def describe(tree: dict) -> list[tuple[str, list[str]]]:
    """[(how the group combines, [conditions in words])] for display."""
    words = {"all": _("all of"), "any": _("any of")}
    return [
        (words[group["match"]], [describe_condition(c) for c in group["conditions"]])
        for group in tree.get("groups", [])
    ]
