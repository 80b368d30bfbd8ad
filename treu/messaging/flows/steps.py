"""What each kind of automation step needs in its settings, checked with German messages.

A step's settings are JSON on `FlowStep.settings`; `clean_settings(kind, data)` is the
one check every write goes through (the defaults, the editor, tests), so a stored step
always runs. `describe(step)` is the one line the flow page shows for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core.money import format_euro
from treu.messaging.models import FlowStep, MailTemplate, Segment, StepKind


class FlowError(ValidationError):
    """An automation change that cannot be stored; German messages per field."""


WAIT_ANCHORS = {
    "": gettext_lazy("after reaching this step"),
    "delivery": gettext_lazy("after the order was delivered"),
}
CONDITION_TESTS = {
    "ordered": gettext_lazy("has ordered since entering the automation"),
    "clicked": gettext_lazy("has clicked a mail since entering the automation"),
    "engaged": gettext_lazy("has opened or clicked a mail since entering the automation"),
    "segment": gettext_lazy("is in the segment"),
    "tag": gettext_lazy("has the tag"),
}
COUPON_VALUES = {"amount": gettext_lazy("fixed amount"), "percent": gettext_lazy("percentage")}
# How long a wait for a delivery goes on before the enrollment gives up.
DELIVERY_PATIENCE_DAYS = 60


def _int(data: Mapping, name: str, low: int, high: int, errors: dict, message: str) -> int:
    value = data.get(name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = [message]
        return low
    if isinstance(value, float) and value != number or not low <= number <= high:
        errors[name] = [message]
    return number


def _text(data: Mapping, name: str, limit: int, errors: dict, message: str) -> str:
    value = str(data.get(name) or "").strip()
    if not value or len(value) > limit:
        errors[name] = [message]
    return value


def clean_settings(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a step of this kind as stored, or FlowError naming each bad field."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any]
    if kind == StepKind.WAIT:
        anchor = str(data.get("anchor") or "")
        if anchor not in WAIT_ANCHORS:
            errors["anchor"] = [_("Choose what the wait counts from.")]
        days = _int(data, "days", 0, 365, errors, _("Wait 0 to 365 days."))
        hours = _int(data, "hours", 0, 23, errors, _("Add 0 to 23 hours."))
        if not errors and not anchor and not days and not hours:
            errors["days"] = [_("A wait needs at least one hour.")]
        cleaned = {"days": days, "hours": hours, "anchor": anchor}
    elif kind == StepKind.CONDITION:
        test = str(data.get("test") or "")
        cleaned = {"test": test, "expect": _bool(data.get("expect", True))}
        if test not in CONDITION_TESTS:
            errors["test"] = [_("Choose what the condition checks.")]
        elif test == "segment":
            segment_id = data.get("segment_id")
            if (
                not str(segment_id or "").isdigit()
                or not Segment.objects.filter(pk=int(segment_id)).exists()
            ):
                errors["segment_id"] = [_("Choose a segment.")]
            else:
                cleaned["segment_id"] = int(segment_id)
        elif test == "tag":
            cleaned["tag"] = _text(data, "tag", 64, errors, _("Enter a tag of 1 to 64 characters."))
    elif kind == StepKind.SEND:
        template_id = data.get("template_id")
        if (
            not str(template_id or "").isdigit()
            or not MailTemplate.objects.filter(pk=int(template_id)).exists()
        ):
            errors["template_id"] = [_("Choose a mail template.")]
            template_id = 0
        cleaned = {"template_id": int(template_id)}
    elif kind == StepKind.TAG:
        cleaned = {"tag": _text(data, "tag", 64, errors, _("Enter a tag of 1 to 64 characters."))}
    elif kind == StepKind.POINTS:
        cleaned = {
            "points": _int(data, "points", 1, 100_000, errors, _("Award 1 to 100,000 points.")),
            "reason": _text(
                data, "reason", 200, errors, _("Enter the reason the member sees (at most 200).")
            ),
        }
    elif kind == StepKind.COUPON:
        value = str(data.get("value") or "")
        cleaned = {
            "value": value,
            "valid_days": _int(
                data, "valid_days", 1, 365, errors, _("A coupon is valid for 1 to 365 days.")
            ),
        }
        if value == "amount":
            cleaned["amount_cents"] = _int(
                data, "amount_cents", 1, 100_000, errors, _("Enter 0,01 € to 1.000 €.")
            )
        elif value == "percent":
            cleaned["percent"] = _int(data, "percent", 1, 100, errors, _("Enter 1 to 100 %."))
        else:
            errors["value"] = [_("Choose a fixed amount or a percentage.")]
        cleaned["label"] = str(data.get("label") or "").strip()[:120] or _("Automation coupon")
    elif kind == StepKind.TASK:
        cleaned = {
            "title": _text(
                data, "title", 200, errors, _("Describe the task (1 to 200 characters).")
            ),
            "due_days": _int(data, "due_days", 0, 90, errors, _("Due within 0 to 90 days.")),
        }
    elif kind == StepKind.END_MARKETING:
        cleaned = {}
    else:
        raise FlowError({"kind": [_("This kind of step does not exist.")]})
    if errors:
        raise FlowError(errors)
    return cleaned


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes", "ja"}
    return bool(value)


def describe(step: FlowStep, *, templates: Mapping[int, str] | None = None) -> str:
    """One line saying what the step does, in German."""
    s = step.settings
    if step.kind == StepKind.WAIT:
        span = _("%(days)s days") % {"days": s.get("days", 0)}
        if s.get("hours"):
            span += " " + _("%(hours)s hours") % {"hours": s["hours"]}
        return _("Wait %(span)s %(anchor)s") % {
            "span": span,
            "anchor": WAIT_ANCHORS.get(s.get("anchor", ""), ""),
        }
    if step.kind == StepKind.CONDITION:
        test = str(CONDITION_TESTS.get(s.get("test", ""), ""))
        if s.get("test") == "segment":
            segment = Segment.objects.filter(pk=s.get("segment_id")).first()
            test += f" „{segment.name if segment else '?'}“"
        elif s.get("test") == "tag":
            test += f" „{s.get('tag', '')}“"
        if s.get("expect", True):
            return _("Continue only if the customer %(test)s") % {"test": test}
        return _("Continue only if the customer NOT %(test)s") % {"test": test}
    if step.kind == StepKind.SEND:
        if templates is None:
            templates = dict(MailTemplate.objects.values_list("pk", "name"))
        name = templates.get(s.get("template_id"), _("(template deleted)"))
        return _("Send „%(name)s“") % {"name": name}
    if step.kind == StepKind.TAG:
        return _("Add the tag „%(tag)s“") % {"tag": s.get("tag", "")}
    if step.kind == StepKind.POINTS:
        return _("Award %(points)s points (members only)") % {"points": s.get("points", 0)}
    if step.kind == StepKind.COUPON:
        if s.get("value") == "amount":
            value = format_euro(int(s.get("amount_cents", 0)))
        else:
            value = f"{s.get('percent', 0)} %"
        return _("Create a coupon of %(value)s, valid %(days)s days (members only)") % {
            "value": value,
            "days": s.get("valid_days", 0),
        }
    if step.kind == StepKind.TASK:
        return _("Staff task: %(title)s") % {"title": s.get("title", "")}
    if step.kind == StepKind.END_MARKETING:
        return _("End marketing mails for this customer (consent withdrawn)")
    return step.kind
