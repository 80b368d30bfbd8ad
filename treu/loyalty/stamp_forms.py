"""Forms of the stamp card pages. Writes go through services; these only read and check input."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.backoffice.forms import DateInput
from treu.commerce import selectors as commerce_selectors
from treu.loyalty.models import StampCardType
from treu.loyalty.services.stamps import clean_skus


class StampCardTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    stamps_needed = forms.IntegerField(
        label=_("Stamps for a full card"), min_value=1, max_value=100, initial=10
    )
    skus = forms.CharField(
        label=_("SKUs that earn stamps"),
        required=False,
        max_length=2000,
        help_text=_("Separated by commas or spaces. One stamp per unit bought."),
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Categories that earn stamps"),
        queryset=commerce_selectors.product_categories(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reward_sku = forms.CharField(label=_("SKU of the free item"), max_length=64)
    reward_description = forms.CharField(
        label=_("Reward"),
        max_length=200,
        help_text=_("As the customer reads it, e.g. 1 Kaffee nach Wahl gratis."),
    )
    voucher_valid_days = forms.IntegerField(
        label=_("Voucher valid (days)"), min_value=1, max_value=730, initial=90
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput)
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=DateInput, help_text=_("Empty: no end.")
    )

    @classmethod
    def for_card_type(cls, card_type: StampCardType, data=None) -> StampCardTypeForm:
        initial = {name: getattr(card_type, name) for name in cls.base_fields if name != "skus"}
        initial["skus"] = ", ".join(card_type.skus)
        initial["categories"] = list(card_type.categories.all())
        return cls(data, initial=initial)

    def clean_skus(self) -> list[str]:
        return clean_skus(self.cleaned_data["skus"])


class RedeemVoucherForm(forms.Form):
    code = forms.CharField(
        label=_("Voucher code"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
