from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.commerce import selectors as commerce_selectors
from treu.imports import formats


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 or Windows-1252, separated by comma or semicolon."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    format = forms.ChoiceField(label=_("Format"), initial=formats.AUTO)
    shop = forms.ModelChoiceField(
        label=_("Shop"),
        queryset=commerce_selectors.shops(),
        help_text=_("Orders and customer ids in the file belong to this shop."),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: only show what would change"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [(formats.AUTO, _("Detect automatically"))] + [
            (key, label) for key, label in formats.choices()
        ]
        self.fields["shop"].queryset = commerce_selectors.shops()
        if self.fields["shop"].queryset.count() == 1:
            self.fields["shop"].initial = self.fields["shop"].queryset.first()
