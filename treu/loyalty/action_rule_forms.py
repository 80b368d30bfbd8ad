"""Forms of the earning rules for actions. Writes go through services; these only read input."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.backoffice.forms import DateInput
from treu.loyalty.models import ActionRule, ActionTrigger, SocialNetwork, Tier
from treu.loyalty.models.action_rules import REPORTED_TRIGGERS


class ActionRuleForm(forms.ModelForm):
    class Meta:
        model = ActionRule
        fields = [
            "name", "trigger", "points", "network", "event", "limit", "starts_on", "ends_on",
            "eligible_tiers", "active",
        ]  # fmt: skip
        widgets = {
            "starts_on": DateInput,
            "ends_on": DateInput,
            "eligible_tiers": forms.CheckboxSelectMultiple,
            "limit": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["eligible_tiers"].queryset = Tier.objects.order_by("rank")
        self.fields["network"].choices = [("", _("Every network")), *SocialNetwork.choices]

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def _post_clean(self):
        # The service validates the rule (with its German messages); the form only reads.
        pass


class RecordActionForm(forms.Form):
    """Staff record what a member did ("Bewertung erhalten") on the member's page."""

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[(t.value, t.label) for t in ActionTrigger if t in REPORTED_TRIGGERS],
    )
    network = forms.ChoiceField(
        label=_("Network"),
        required=False,
        choices=[("", "–"), *SocialNetwork.choices],
        help_text=_("Social media only."),
    )
    event = forms.CharField(
        label=_("Event name"),
        required=False,
        max_length=50,
        help_text=_("Custom events only, e.g. workshop_besucht."),
    )
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=60,
        help_text=_(
            "What it was for, e.g. the review's number. The same reference earns once; "
            "empty: counted as a new occasion."
        ),
    )
