"""Forms of the till. Each booking form carries the key the page was rendered with, so a
double tap or a resent form books once."""

from __future__ import annotations

import secrets

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from treu.commerce import selectors as commerce_selectors
from treu.commerce.models import ShopKind
from treu.loyalty import selectors, store_selectors
from treu.loyalty.forms import EuroField
from treu.loyalty.models import VatRate
from treu.loyalty.services.stamps import MAX_STORE_STAMPS
from treu.loyalty.services.store import MAX_PURCHASE_CENTS


def new_key() -> str:
    return secrets.token_urlsafe(24)


class KeyField(forms.CharField):
    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(
            max_length=64,
            validators=[RegexValidator(r"^[A-Za-z0-9_-]{16,64}$")],
            error_messages={
                "required": _("The form has expired; please reload the page."),
                "invalid": _("The form has expired; please reload the page."),
            },
            **kwargs,
        )


class TillSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Member card, customer number or email"),
        max_length=254,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "enterkeyhint": "search",
                "placeholder": _("Card, number or email"),
            }
        ),
    )


class PurchaseForm(forms.Form):
    key = KeyField()
    amount = EuroField(
        label=_("Amount paid"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0,00"}
        ),
    )

    def clean_amount(self):
        cents = self.cleaned_data["amount"]
        if not cents:
            raise forms.ValidationError(_("Enter the amount the customer paid."))
        if cents > MAX_PURCHASE_CENTS:
            raise forms.ValidationError(
                _("That is more than a till takes at once: check the amount.")
            )
        return cents


class StampsForm(forms.Form):
    key = KeyField()
    card_type = forms.ModelChoiceField(
        label=_("Stamp card"),
        queryset=store_selectors.stamp_types_running(),
        error_messages={"invalid_choice": _("This stamp card is not running today.")},
    )
    count = forms.IntegerField(label=_("Stamps"), min_value=1, max_value=MAX_STORE_STAMPS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["card_type"].queryset = store_selectors.stamp_types_running()


class TillRedeemForm(forms.Form):
    key = KeyField()
    reward = forms.ModelChoiceField(
        label=_("Reward"),
        queryset=selectors.reward_list(),
        error_messages={"invalid_choice": _("This reward is not offered at the moment.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reward"].queryset = selectors.rewards_on_offer(timezone.now())


class TillSettingsForm(forms.Form):
    shop = forms.ModelChoiceField(
        label=_("Store"),
        queryset=commerce_selectors.shops(),
        required=False,
        empty_label=_("– choose –"),
        help_text=_("Purchases entered at the till are booked as orders of this store."),
    )
    new_store_name = forms.CharField(
        label=_("…or create a new store"),
        max_length=100,
        required=False,
        help_text=_("Its name, e.g. Rösterei am Markt."),
    )
    tax_rate_bp = forms.TypedChoiceField(
        label=_("VAT rate of store purchases"),
        choices=VatRate.choices,
        coerce=int,
        initial=VatRate.STANDARD,
        help_text=_(
            "The till books one line per purchase. Choose the rate most of your store's "
            "sales have (coffee beans and bread: 7 %)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stores = Q(is_store=True) | Q(kind=ShopKind.POS)
        self.fields["shop"].queryset = commerce_selectors.shops().filter(stores, active=True)
