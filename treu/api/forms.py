"""The back-office form for a new API key; the key itself is made by services.create_key."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.api.models import Scope


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Who uses it, e.g. “Shopify Onlineshop” or “Kasse Laden”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=Scope.choices,
        initial=[Scope.READ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "read: fetch data. write: send customers, products and orders. "
            "checkout: the checkout calls only (coupons, store credit, balances, rewards)."
        ),
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("Requests per minute"), min_value=1, max_value=100_000, initial=600
    )
