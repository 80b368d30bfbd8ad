from __future__ import annotations

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from treu.analytics.models import ExperimentDecision, Industry
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
    monthly_report = forms.BooleanField(
        label=_("Monthly report by email"),
        required=False,
        help_text=_("In the first days of a month the owners get last month's report by email."),
    )
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
            "monthly_report": settings.monthly_report,
            "clv_discount_pct": settings.clv_discount_pct,
        }


class ExperimentForm(forms.Form):
    title = forms.CharField(label=_("Name"), max_length=200)
    hypothesis = forms.CharField(
        label=_("Hypothesis"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "What you do and what you expect, e.g. “A thank-you mail after the first order "
            "brings more second orders within 90 days.”"
        ),
    )
    metric = forms.ChoiceField(label=_("Figure to move"))
    first_month = forms.ChoiceField(label=_("First month"))
    months = forms.TypedChoiceField(
        label=_("Runs for"),
        coerce=int,
        choices=[(1, _("1 month")), (3, _("3 months")), (12, _("12 months"))],
        initial=3,
    )
    control_group = forms.ChoiceField(
        label=_("Measure against a control group"),
        required=False,
        help_text=_(
            "Campaigns and automations that hold back a random control group: their "
            "recipients are compared with the people held back, which shows what the "
            "mail itself did."
        ),
    )

    def __init__(self, *args, months: list, metrics: list, control_groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = metrics
        self.fields["control_group"].choices = [
            ("", _("None: compare before and after")),
            *control_groups,
        ]
        self.fields["first_month"].choices = [
            (f"{m:%Y-%m}", formats.date_format(m, "F Y")) for m in months
        ]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=ExperimentDecision.choices, required=False
    )
    notes = forms.CharField(
        label=_("What we learned"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
