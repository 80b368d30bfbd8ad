from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.analytics.models import Industry
from treu.core.money import MoneyError, format_euro, parse_euro


class SettingsForm(forms.Form):
    active_window_months = forms.IntegerField(
        label=_("Active window (months)"),
        min_value=1,
        max_value=36,
        help_text=_(
            "A customer counts as active while their last purchase is at most this many "
            "months back. 12 suits most shops; a bakery may choose 3."
        ),
    )
    target_retention_pct = forms.IntegerField(
        label=_("Target retention rate (%)"), min_value=0, max_value=100
    )
    target_churn_pct = forms.IntegerField(
        label=_("Target churn rate (%)"), min_value=0, max_value=100
    )
    target_clv = forms.CharField(label=_("Target customer lifetime value (€)"), max_length=20)
    target_nps = forms.IntegerField(label=_("Target NPS"), min_value=-100, max_value=100)
    industry = forms.ChoiceField(label=_("Industry"), choices=Industry.choices)
    clv_discount_pct = forms.IntegerField(
        label=_("Discount rate for the predicted customer value (% a year)"),
        min_value=0,
        max_value=50,
        required=False,  # empty: the rate stays as it is
        help_text=_(
            "Money expected in a year is worth less today. A rate of 10 is a common "
            "choice; 0 sums the expected revenue without discounting."
        ),
    )

    def clean_target_clv(self) -> int:
        try:
            cents = parse_euro(self.cleaned_data["target_clv"])
        except MoneyError:
            raise forms.ValidationError(_("Enter an amount in euros, e.g. 1.000,00.")) from None
        if cents < 0:
            raise forms.ValidationError(_("Amounts must not be negative."))
        return cents

    @staticmethod
    def initial_from(settings) -> dict:
        return {
            "active_window_months": settings.active_window_months,
            "target_retention_pct": settings.target_retention_pct,
            "target_churn_pct": settings.target_churn_pct,
            "target_clv": format_euro(settings.target_clv_cents, with_symbol=False),
            "target_nps": settings.target_nps,
            "industry": settings.industry,
            "clv_discount_pct": settings.clv_discount_pct,
        }
