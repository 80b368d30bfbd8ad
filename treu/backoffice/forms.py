"""Form helpers shared by the back-office apps."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone


def add_service_errors(form: forms.Form, error: ValidationError, *, field_map=None) -> None:
    """Show a service's refusal on the form: per-field messages where the field exists.

    Services raise ValidationError subclasses (CustomerError, OrderRejected) keyed by
    their own argument names; `field_map` maps such a key to a form field name.
    """
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages in error.message_dict.items():
        name = field_map.get(key, key)
        if name == NON_FIELD_ERRORS or name not in form.fields:
            name = None
        form.add_error(name, messages)


class DateInput(forms.DateInput):
    """The browser's date picker; it submits ISO dates whatever the page's language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def start_of_day(day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def end_of_day(day: date | None) -> datetime | None:
    """The first instant after that day, for an inclusive 'until' filter used with `<`."""
    if day is None:
        return None
    return start_of_day(day + timedelta(days=1))
