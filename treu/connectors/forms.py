from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.commerce.models import ShopKind
from treu.connectors.models import PLATFORMS

SECRET_HELP = _(
    "Leave empty to have treu generate one. For Shopify enter the app's client secret "
    "(API secret key) shown in the Shopify admin."
)


class ConnectionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.SlugField(
        label=_("Code"),
        max_length=50,
        help_text=_("Short, lower-case, part of the webhook address, e.g. onlineshop."),
    )
    platform = forms.ChoiceField(
        label=_("Shop system"),
        choices=[(value, label) for value, label in ShopKind.choices if value in PLATFORMS],
    )
    secret = forms.CharField(
        label=_("Signing secret"), required=False, max_length=200, help_text=SECRET_HELP
    )


class SecretForm(forms.Form):
    secret = forms.CharField(
        label=_("New signing secret"), required=False, max_length=200, help_text=SECRET_HELP
    )
