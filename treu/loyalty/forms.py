"""Forms of the loyalty pages. Writes go through services; these only read and check input."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.loyalty import selectors
from treu.loyalty.models import ProgramSettings
from treu.loyalty.services import SETTINGS_FIELDS


class MemberSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(attrs={"placeholder": _("Number, name or email")}),
    )


class EnrolForm(forms.Form):
    """Staff enrol a customer who asked to join (in the store, on the phone)."""

    customer = forms.CharField(
        label=_("Customer"),
        max_length=254,
        help_text=_("Customer number or email address."),
    )

    def clean_customer(self):
        text = self.cleaned_data["customer"].strip()
        found = selectors.customer_for_enrolment(text)
        if found is None:
            raise forms.ValidationError(_("No customer with this number or email address."))
        return found


class ProgramSettingsForm(forms.ModelForm):
    class Meta:
        model = ProgramSettings
        fields = SETTINGS_FIELDS
        widgets = {"membership": forms.RadioSelect, "points_basis": forms.RadioSelect}
        localized_fields = ("points_per_euro",)  # "2,5" as Germans write it


class AdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text=_("Positive to add, negative to take away."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)
