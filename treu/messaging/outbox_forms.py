from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SuppressionForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    detail = forms.CharField(
        label=_("Why"),
        max_length=300,
        required=False,
        help_text=_("For example: the customer asked us by phone to write no more mails."),
    )
