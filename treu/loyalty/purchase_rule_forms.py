"""The purchase rule form. Writes go through services; this only reads and checks input."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from treu.backoffice.forms import DateInput
from treu.commerce import selectors as commerce_selectors
from treu.core.money import format_euro
from treu.loyalty.forms import EuroField
from treu.loyalty.models import PurchaseRule, PurchaseRuleKind, RuleLimit, Tier
from treu.loyalty.services.stamps import clean_skus


class PurchaseRuleForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Shown in the member's ledger, e.g. Doppelte Punkte im Dezember."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    kind = forms.ChoiceField(
        label=_("What the rule gives"), choices=PurchaseRuleKind.choices, widget=forms.RadioSelect
    )
    multiplier = forms.DecimalField(
        label=_("Multiplier"),
        required=False,
        max_digits=4,
        decimal_places=2,
        localize=True,
        help_text=_("On the purchase points of the goods in scope: 2 doubles them."),
    )
    points_per_euro = forms.DecimalField(
        label=_("Extra points per euro"),
        required=False,
        max_digits=7,
        decimal_places=2,
        localize=True,
        help_text=_("On top of the purchase points, for what was paid for the goods in scope."),
    )
    points = forms.IntegerField(
        label=_("Points"),
        required=False,
        help_text=_("Per item of the goods in scope, or once per qualifying order."),
    )
    skus = forms.CharField(
        label=_("SKUs"),
        required=False,
        max_length=2000,
        help_text=_("Separated by commas or spaces. Neither SKUs nor categories: all goods."),
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Categories"),
        queryset=commerce_selectors.product_categories(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    min_order = EuroField(
        label=_("Minimum order value"),
        required=False,
        max_length=20,
        help_text=_(
            "What was paid for the order's goods (after discounts, without shipping, gross or "
            "net as the points are counted). Empty: any order."
        ),
    )
    starts_on = forms.DateField(label=_("From"), widget=DateInput)
    ends_on = forms.DateField(
        label=_("Until"),
        required=False,
        widget=DateInput,
        help_text=_("The last day included (Europe/Berlin). Empty: no end."),
    )
    limit = forms.ChoiceField(
        label=_("Limit per customer"), choices=RuleLimit.choices, initial=RuleLimit.UNLIMITED
    )
    eligible_tiers = forms.ModelMultipleChoiceField(
        label=_("Tiers"),
        queryset=Tier.objects.order_by("rank"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every member."),
    )

    @classmethod
    def blank(cls, data=None) -> PurchaseRuleForm:
        return cls(data, initial={"starts_on": timezone.localdate(), "active": True})

    @classmethod
    def for_rule(cls, rule: PurchaseRule, data=None) -> PurchaseRuleForm:
        initial = {
            name: getattr(rule, name)
            for name in ("name", "active", "kind", "multiplier", "points_per_euro", "points",
                         "starts_on", "ends_on", "limit")
        }  # fmt: skip
        initial["skus"] = ", ".join(rule.skus)
        initial["categories"] = list(rule.categories.all())
        initial["eligible_tiers"] = list(rule.eligible_tiers.all())
        if rule.min_order_cents:
            initial["min_order"] = format_euro(rule.min_order_cents, with_symbol=False)
        return cls(data, initial=initial)

    def clean_skus(self) -> list[str]:
        return clean_skus(self.cleaned_data["skus"])

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["min_order_cents"] = data.pop("min_order") or 0
        return data
