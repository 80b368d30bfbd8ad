"""Forms of the loyalty pages. Writes go through services; these only read and check input."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from treu.backoffice.forms import DateInput, end_of_day, start_of_day
from treu.core.money import MoneyError, format_euro, parse_euro
from treu.loyalty import selectors
from treu.loyalty.models import ProgramSettings, Reward, Tier
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


class EuroField(forms.CharField):
    """An amount as Germans type it ("12,50"), cleaned to integer cents."""

    def clean(self, value):
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        try:
            cents = parse_euro(text)
        except MoneyError:
            raise forms.ValidationError(
                _("Please enter an amount in euros, e.g. 4,90."), code="amount"
            ) from None
        if cents < 0:
            raise forms.ValidationError(_("Amounts must not be negative."), code="negative")
        return cents


class RewardForm(forms.ModelForm):
    """The catalogue's form: euros instead of cents, days instead of instants."""

    amount = EuroField(
        label=_("Amount (€)"),
        required=False,
        max_length=20,
        help_text=_("Fixed discount or store credit, e.g. 5,00."),
    )
    max_discount = EuroField(
        label=_("Maximum discount (€)"),
        required=False,
        max_length=20,
        help_text=_("Percent discounts only; empty for no cap."),
    )
    from_day = forms.DateField(label=_("Available from"), required=False, widget=DateInput)
    until_day = forms.DateField(
        label=_("Available until (inclusive)"), required=False, widget=DateInput
    )

    class Meta:
        model = Reward
        fields = (
            "name", "description", "kind", "points_cost", "active", "limit_per_member",
            "coupon_valid_days", "percent", "product_sku", "access_code", "seats",
            "partner_name", "eligible_tiers",
        )  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "eligible_tiers": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["eligible_tiers"].queryset = Tier.objects.order_by("rank")
        reward = self.instance
        if reward.pk:
            self.initial["amount"] = (
                format_euro(reward.amount_cents, with_symbol=False) if reward.amount_cents else ""
            )
            self.initial["max_discount"] = (
                format_euro(reward.max_discount_cents, with_symbol=False)
                if reward.max_discount_cents
                else ""
            )
            if reward.available_from:
                self.initial["from_day"] = timezone.localdate(reward.available_from)
            if reward.available_until:  # stored as the first instant after the last day
                last = reward.available_until - timedelta(microseconds=1)
                self.initial["until_day"] = timezone.localdate(last)

    def service_fields(self) -> dict:
        """The cleaned form as `services.save_reward` takes it."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["amount_cents"] = self.cleaned_data["amount"]
        data["max_discount_cents"] = self.cleaned_data["max_discount"]
        data["available_from"] = start_of_day(self.cleaned_data["from_day"])
        data["available_until"] = end_of_day(self.cleaned_data["until_day"])
        return data

    # Service keys that have a form field under another name.
    FIELD_MAP = {
        "amount_cents": "amount",
        "max_discount_cents": "max_discount",
        "available_from": "from_day",
        "available_until": "until_day",
    }


MAX_CODES_FILE = 1024 * 1024  # a megabyte: some ten thousand codes


class PartnerCodesForm(forms.Form):
    """The partner's codes, pasted or as a text/CSV file (one a line)."""

    codes = forms.CharField(
        label=_("Partner codes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One code per line (or separated by commas); codes already listed are skipped."
        ),
    )
    file = forms.FileField(
        label=_("Or a file with the codes"),
        required=False,
        help_text=_("A text or CSV file as the partner sent it, one code per line."),
    )

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("codes") or ""
        upload = cleaned.get("file")
        if upload is not None:
            if upload.size > MAX_CODES_FILE:
                raise forms.ValidationError(_("The file is larger than 1 MB."), code="too_large")
            try:
                text += "\n" + upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    _("The file is not a UTF-8 text file."), code="encoding"
                ) from None
        cleaned["text"] = text
        return cleaned


class RedemptionSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(attrs={"placeholder": _("Coupon or partner code")}),
    )


class RedeemForm(forms.Form):
    """Staff redeem a reward for a member who asks (in the store, on the phone).

    Offers what the member's tier may redeem. A sent form takes any reward on offer, so a
    member who moved down since the page was shown hears the service's reason, not
    "not a valid choice".
    """

    reward = forms.ModelChoiceField(label=_("Reward"), queryset=Reward.objects.none())

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.now()
        self.fields["reward"].queryset = selectors.rewards_on_offer(
            now, member=None if self.is_bound else member
        )
        self.fields["reward"].label_from_instance = _reward_label


def _reward_label(reward: Reward) -> str:
    label = f"{reward.name} ({reward.points_cost})"
    tiers = [t.name for t in reward.eligible_tiers.all()]  # prefetched
    if tiers:
        label += " · " + _("only %(tiers)s") % {"tiers": ", ".join(tiers)}
    return label
