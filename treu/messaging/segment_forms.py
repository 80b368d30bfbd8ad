"""The segment editor as a plain form: rule rows posted as `g-<group>-c-<n>-field/op/value`.

Works without JavaScript: "Bedingung hinzufügen", "Gruppe hinzufügen", "Entfernen" and
"Anzahl aktualisieren" are submit buttons that re-render the page with the rows as posted.
The same parsing serves the JSON count endpoint the page's small script calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core.money import MoneyError, parse_euro
from treu.messaging.segments import fields as F
from treu.messaging.segments import rules

MATCH_CHOICES = [("all", gettext_lazy("all")), ("any", gettext_lazy("any"))]
_KEY = re.compile(r"^g-(\d{1,2})-(?:c-(\d{1,2})-)?(match|field|op|value)$")


class SegmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300, required=False)
    active = forms.BooleanField(
        label=gettext_lazy("Active: keep the members current"), required=False, initial=True
    )
    match = forms.ChoiceField(
        label=gettext_lazy("Customers must match"), choices=MATCH_CHOICES, initial="all"
    )


@dataclass
class ConditionRow:
    field_key: str
    op: str
    value: str = ""
    values: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def rule_field(self) -> F.RuleField | None:
        return F.get_field(self.field_key)

    @property
    def operators(self) -> list[tuple[str, str]]:
        rule_field = self.rule_field
        ops = rule_field.allowed_operators if rule_field else ()
        return [(op, str(F.OPERATOR_LABELS[op])) for op in ops]

    @property
    def input_type(self) -> str:
        """How the value is entered: number, money, days, date, choices or text."""
        rule_field = self.rule_field
        if rule_field is None:
            return "text"
        if rule_field.kind == F.RECENCY:
            return "days" if self.op in (F.WITHIN_DAYS, F.NOT_WITHIN_DAYS, "") else "date"
        return {F.NUMBER: "number", F.MONEY: "money", F.CHOICE: "choices", F.DAYS: "days"}.get(
            rule_field.kind, "text"
        )

    @property
    def choices(self) -> list[tuple[str, str]]:
        rule_field = self.rule_field
        return rule_field.choice_list() if rule_field and rule_field.kind == F.CHOICE else []


@dataclass
class GroupRow:
    match: str = "all"
    conditions: list[ConditionRow] = field(default_factory=list)
    error: str = ""


def new_condition() -> ConditionRow:
    first = F.all_fields()[0]
    return ConditionRow(field_key=first.key, op=first.allowed_operators[0])


def rows_from_post(data: QueryDict) -> list[GroupRow]:
    """The groups and conditions as posted, in index order (gaps from removed rows closed)."""
    groups: dict[int, dict] = {}
    for key in data:
        found = _KEY.match(key)
        if not found:
            continue
        g, c, part = int(found[1]), found[2], found[3]
        group = groups.setdefault(g, {"match": "all", "conditions": {}})
        if c is None:
            if part == "match":
                group["match"] = data.get(key) if data.get(key) in ("all", "any") else "all"
            continue
        condition = group["conditions"].setdefault(int(c), {})
        if part == "value":
            condition["values"] = [v for v in data.getlist(key) if v != ""]
            condition["value"] = data.get(key, "")
        else:
            condition[part] = data.get(key, "")
    out = []
    for g in sorted(groups):
        row = GroupRow(match=groups[g]["match"])
        for c in sorted(groups[g]["conditions"]):
            raw = groups[g]["conditions"][c]
            key = raw.get("field", "")
            rule_field = F.get_field(key)
            op = raw.get("op", "")
            if rule_field and op not in rule_field.allowed_operators:
                op = rule_field.allowed_operators[0]  # the field changed: its first operator
            row.conditions.append(
                ConditionRow(
                    field_key=key,
                    op=op,
                    value=raw.get("value", "").strip(),
                    values=raw.get("values", []),
                )  # fmt: skip
            )
        out.append(row)
    return out


def rows_from_tree(tree: dict) -> list[GroupRow]:
    """A stored tree as editor rows (money back in euros, dates as ISO for the date input)."""
    out = []
    for group in tree.get("groups", []):
        row = GroupRow(match=group["match"])
        for condition in group["conditions"]:
            rule_field = F.get_field(condition["field"])
            value = condition["value"]
            if rule_field is not None and rule_field.kind == F.MONEY:
                text = f"{value // 100},{value % 100:02d}"
            elif isinstance(value, list):
                text = ""
            else:
                text = str(value)
            row.conditions.append(
                ConditionRow(
                    field_key=condition["field"],
                    op=condition["op"],
                    value=text,
                    values=[str(v) for v in value] if isinstance(value, list) else [],
                )  # fmt: skip
            )
        out.append(row)
    return out


def _value(row: ConditionRow):
    """The posted value in the form the rules take; ValueError with a German message."""
    kind = row.input_type
    if kind == "choices":
        return row.values
    if kind == "money":
        if not row.value:
            raise ValueError(_("Enter an amount such as 25,00."))
        try:
            return parse_euro(row.value)
        except MoneyError:
            raise ValueError(_("Enter an amount such as 25,00.")) from None
    if kind == "date" and re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", row.value):
        try:
            return datetime.strptime(row.value, "%d.%m.%Y").date().isoformat()  # noqa: DTZ007
        except ValueError:
            raise ValueError(_("Enter a date such as 2026-03-31.")) from None
    if kind in ("number", "days", "date", "text") and not row.value:
        raise ValueError(_("Enter a value."))
    return row.value


def tree_from_rows(match: str, groups: list[GroupRow]) -> dict:
    """The rule tree the rows describe, normalised; RuleError with every problem, and each
    problem also put on its row (shown next to it)."""
    problems: list[rules.Problem] = []
    tree_groups = []
    for g, group in enumerate(groups):
        conditions = []
        for c, row in enumerate(group.conditions):
            try:
                conditions.append(
                    rules.normalise_condition(
                        {"field": row.field_key, "op": row.op, "value": _value(row)}
                    )
                )
            except ValueError as error:
                row.error = str(error)
                problems.append(rules.Problem(str(error), g, c))
        tree_groups.append({"match": group.match, "conditions": conditions})
    if problems:
        raise rules.RuleError(problems)
    return rules.normalise({"version": rules.VERSION, "match": match, "groups": tree_groups})


def field_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """The fields for the picker, grouped: [(group label, [(key, label)])]."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for rule_field in F.all_fields():
        grouped.setdefault(str(rule_field.group), []).append(
            (rule_field.key, str(rule_field.label))
        )
    return list(grouped.items())


# -- The editor's state ------------------------------------------------------------------------


@dataclass
class Editor:
    form: SegmentForm
    groups: list[GroupRow]
    tree: dict | None  # the rows as a valid rule tree; None while a condition is incomplete
    saving: bool = False

    def segment_fields(self) -> dict:
        data = self.form.cleaned_data
        return {k: data[k] for k in ("name", "description", "active")}


def editor_for(segment) -> Editor:
    """The editor opened on a segment (or empty, with one condition to start from)."""
    if segment is None:
        form = SegmentForm(initial={"match": "all", "active": True})
        return Editor(form=form, groups=[GroupRow(conditions=[new_condition()])], tree=None)
    form = SegmentForm(
        initial={
            "name": segment.name,
            "description": segment.description,
            "active": segment.active,
            "match": segment.rules.get("match", "all"),
        }
    )
    groups = rows_from_tree(segment.rules)
    if not groups:
        return Editor(form=form, groups=[GroupRow(conditions=[new_condition()])], tree=None)
    return Editor(form=form, groups=groups, tree=segment.rules)


def editor_from_post(data: QueryDict) -> Editor:
    """The editor after one of its buttons: the rows as posted, changed by the button.

    Only "save" and "preview" judge the rows and show errors; adding, removing and a field
    changed by the script re-render half-typed rows without complaining about them.
    """
    action = data.get("action", "save")
    match = data.get("match") if data.get("match") in ("all", "any") else "all"
    groups = rows_from_post(data)
    apply_action(action, groups)
    saving = action == "save"
    form = SegmentForm(data) if saving else SegmentForm(initial=data)
    try:
        tree = tree_from_rows(match, groups)
    except rules.RuleError:
        tree = None
        if action not in ("save", "preview"):
            for row in (r for group in groups for r in group.conditions):
                row.error = ""
    return Editor(form=form, groups=groups, tree=tree, saving=saving)


def apply_action(action: str, groups: list[GroupRow]) -> None:
    """The editor's buttons that change the rows, not the segment."""
    if action == "add_group":
        groups.append(GroupRow(conditions=[new_condition()]))
    elif action.startswith("add:"):
        g = int(action[4:]) if action[4:].isdigit() else -1
        if 0 <= g < len(groups):
            groups[g].conditions.append(new_condition())
    elif action.startswith("remove:"):
        parts = action.split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            g, c = int(parts[1]), int(parts[2])
            if 0 <= g < len(groups) and 0 <= c < len(groups[g].conditions):
                del groups[g].conditions[c]
                if not groups[g].conditions:
                    del groups[g]
