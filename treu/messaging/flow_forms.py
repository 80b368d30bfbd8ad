"""Forms of the automation pages: the flow's settings and one step's settings per kind.
They only shape the input; `flows.steps.clean_settings` and the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.core.money import parse_euro
from treu.messaging.flows.defaults import TRIGGER_SETTINGS
from treu.messaging.flows.steps import CONDITION_TESTS, COUPON_VALUES, WAIT_ANCHORS
from treu.messaging.models import Flow, FlowStep, MailTemplate, Segment, StepKind

TRIGGER_LABELS = {
    ("overdue", "days"): _("Days past the expected order"),
    ("running_out", "within_days"): _("Days before it runs out"),
    ("unengaged", "days"): _("Days without opening or clicking"),
    ("unengaged", "min_mails"): _("Marketing mails at least"),
}


class FlowForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    control_percent = forms.IntegerField(
        label=_("Control group (%)"),
        min_value=0,
        max_value=50,
        help_text=_(
            "This share of the customers entering gets nothing, so the page can show "
            "what the automation brings."
        ),
    )

    def __init__(self, *args, flow: Flow, **kwargs):
        initial = {
            "name": flow.name,
            "description": flow.description,
            "control_percent": flow.control_percent,
            **flow.trigger_settings,
        }
        super().__init__(*args, initial=initial, **kwargs)
        for key, (low, high, _message) in TRIGGER_SETTINGS.get(flow.trigger, {}).items():
            self.fields[key] = forms.IntegerField(
                label=TRIGGER_LABELS.get((flow.trigger, key), key), min_value=low, max_value=high
            )
        self.trigger_keys = list(TRIGGER_SETTINGS.get(flow.trigger, {}))

    def trigger_settings(self) -> dict:
        return {key: self.cleaned_data[key] for key in self.trigger_keys}


class StepForm(forms.Form):
    """The fields of one step's kind; the rest of the kinds' fields are left out."""

    def __init__(self, *args, step: FlowStep, **kwargs):
        s = dict(step.settings)
        if "amount_cents" in s:
            s["amount"] = f"{s['amount_cents'] / 100:.2f}".replace(".", ",")
        super().__init__(*args, initial=s, **kwargs)
        self.kind = step.kind
        f = self.fields
        if step.kind == StepKind.WAIT:
            f["days"] = forms.IntegerField(label=_("Days"), min_value=0, max_value=365)
            f["hours"] = forms.IntegerField(label=_("Hours"), min_value=0, max_value=23)
            f["anchor"] = forms.ChoiceField(
                label=_("Counted from"), choices=list(WAIT_ANCHORS.items()), required=False
            )
        elif step.kind == StepKind.CONDITION:
            f["test"] = forms.ChoiceField(
                label=_("The customer …"), choices=list(CONDITION_TESTS.items())
            )
            f["expect"] = forms.TypedChoiceField(
                label=_("Continue when"),
                choices=[("1", _("this is true")), ("0", _("this is not true"))],
                coerce=lambda v: v == "1",
            )
            self.initial["expect"] = "1" if s.get("expect", True) else "0"
            f["segment_id"] = forms.ChoiceField(
                label=_("Segment"),
                required=False,
                choices=[("", "–")]
                + [
                    (str(p), n)
                    for p, n in Segment.objects.order_by("name").values_list("pk", "name")
                ],
            )
            f["tag"] = forms.CharField(label=_("Tag"), max_length=64, required=False)
        elif step.kind == StepKind.SEND:
            f["template_id"] = forms.ChoiceField(
                label=_("Mail template"),
                choices=[
                    (str(p), n)
                    for p, n in MailTemplate.objects.order_by("name").values_list("pk", "name")
                ],
            )
        elif step.kind == StepKind.TAG:
            f["tag"] = forms.CharField(label=_("Tag"), max_length=64)
        elif step.kind == StepKind.POINTS:
            f["points"] = forms.IntegerField(label=_("Points"), min_value=1, max_value=100_000)
            f["reason"] = forms.CharField(label=_("Reason shown to the member"), max_length=200)
        elif step.kind == StepKind.COUPON:
            f["value"] = forms.ChoiceField(label=_("Value"), choices=list(COUPON_VALUES.items()))
            f["amount"] = forms.CharField(label=_("Amount (€)"), required=False)
            f["percent"] = forms.IntegerField(
                label=_("Percent"), min_value=1, max_value=100, required=False
            )
            f["valid_days"] = forms.IntegerField(
                label=_("Valid for days"), min_value=1, max_value=365
            )
            f["label"] = forms.CharField(
                label=_("Name of the coupon"), max_length=120, required=False
            )
        elif step.kind == StepKind.TASK:
            f["title"] = forms.CharField(label=_("Task"), max_length=200)
            f["due_days"] = forms.IntegerField(label=_("Due after days"), min_value=0, max_value=90)

    def clean_amount(self):
        value = self.cleaned_data.get("amount") or ""
        if self.cleaned_data.get("value") != "amount":
            return None
        try:
            return parse_euro(value)
        except (ValueError, ArithmeticError):
            raise forms.ValidationError(_("Enter an amount such as 5,00.")) from None

    def settings(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        if "amount" in data:
            data["amount_cents"] = data.pop("amount")
        if self.kind == StepKind.CONDITION:
            data["expect"] = self.cleaned_data.get("expect", True)
        return data
