"""Forms of the tier and expiry pages. Writes go through services; these only read input."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.core.money import MoneyError, format_euro, parse_euro
from treu.loyalty.models import ExpirySettings, Tier, TierBasis, TierSettings
from treu.loyalty.services import TIER_SETTINGS_FIELDS


class TierSettingsForm(forms.ModelForm):
    class Meta:
        model = TierSettings
        fields = TIER_SETTINGS_FIELDS
        widgets = {"basis": forms.RadioSelect, "period": forms.RadioSelect}
        localized_fields = ("vip_top_percent",)


class TierForm(forms.ModelForm):
    """A tier; the threshold is read as euros ("1.000,00") or points, as the basis says."""

    threshold_text = forms.CharField(label=_("Threshold"), max_length=20, initial="0")

    class Meta:
        model = Tier
        fields = [
            "name", "rank", "invite_only", "earning_multiplier", "free_shipping",
            "early_access", "birthday_gift",
        ]  # fmt: skip
        localized_fields = ("earning_multiplier",)

    def __init__(self, *args, basis: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.basis = basis
        field = self.fields["threshold_text"]
        if basis == TierBasis.SPEND:
            field.help_text = _("Spend in euros within the qualification period, e.g. 500,00.")
            if self.instance.pk:
                field.initial = format_euro(self.instance.threshold, with_symbol=False)
        else:
            field.help_text = _("Points earned within the qualification period.")
            if self.instance.pk:
                field.initial = str(self.instance.threshold)

    def clean_threshold_text(self) -> int:
        text = self.cleaned_data["threshold_text"].strip()
        if self.basis == TierBasis.SPEND:
            try:
                value = parse_euro(text)
            except MoneyError:
                raise forms.ValidationError(_("Enter an amount in euros, e.g. 500,00.")) from None
        else:
            if not text.isdigit():
                raise forms.ValidationError(_("Enter a whole number of points."))
            value = int(text)
        if value < 0:
            raise forms.ValidationError(_("The threshold cannot be negative."))
        return value

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        return {**fields, "threshold": self.cleaned_data["threshold_text"]}

    def _post_clean(self):
        # The service validates the model (and the order of thresholds); the form only reads.
        pass


class AssignTierForm(forms.Form):
    tier = forms.ModelChoiceField(
        label=_("Tier"),
        queryset=Tier.objects.order_by("rank"),
        required=False,
        empty_label=_("By the rules (remove the assignment)"),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ExpirySettingsForm(forms.ModelForm):
    class Meta:
        model = ExpirySettings
        fields = ["mode", "months"]
        widgets = {"mode": forms.RadioSelect}
