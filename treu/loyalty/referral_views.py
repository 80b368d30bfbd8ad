"""Referral pages: the public landing page of a member's link, the review queue, settings."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.backoffice.pagination import paginate
from treu.core.money import format_euro
from treu.loyalty import referral_selectors, selectors, services
from treu.loyalty.forms import EuroField
from treu.loyalty.models import ReferralSettings, ReferralStatus


class ReferralSettingsForm(forms.ModelForm):
    """Euros as Germans type them for the two amounts; the rest as stored."""

    advocate_credit = EuroField(label=gettext_lazy("Store credit for the advocate (€)"))
    friend_discount = EuroField(label=gettext_lazy("Welcome discount for the friend (€)"))

    class Meta:
        model = ReferralSettings
        fields = (
            "active", "advocate_reward", "advocate_points", "friend_coupon_valid_days",
            "max_referrals_per_ip_week",
        )  # fmt: skip
        widgets = {"advocate_reward": forms.RadioSelect}

    FIELD_MAP = {
        "advocate_credit_cents": "advocate_credit",
        "friend_discount_cents": "friend_discount",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["advocate_credit"] = _euro(self.instance.advocate_credit_cents)
        self.initial["friend_discount"] = _euro(self.instance.friend_discount_cents)

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        fields["advocate_credit_cents"] = self.cleaned_data["advocate_credit"]
        fields["friend_discount_cents"] = self.cleaned_data["friend_discount"]
        return fields


def _euro(cents: int) -> str:
    return format_euro(cents, with_symbol=False)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))],
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All")), *ReferralStatus.choices],
    )


@never_cache
@require_GET
def landing(request, code: str):
    """Public: what a friend sees on opening a member's link; the visit is only counted."""
    program = referral_selectors.referral_settings()
    found = services.record_click(code=code) if program.active else None
    if found is None:
        raise Http404
    context = {"code": found.code, "settings": program, "program": selectors.program_settings()}
    return render(request, "loyalty/referrals_landing.html", context)


@staff_view("loyalty.view_referral")
def referral_list(request):
    # The queue by default; "status" sent empty shows every referral.
    form = StatusFilterForm(request.GET if "status" in request.GET else {"status": "review"})
    status = form.cleaned_data["status"] if form.is_valid() else ReferralStatus.REVIEW
    context = {
        "form": form,
        "status": status,
        "page": paginate(request, referral_selectors.referral_list(status=status)),
        "review_form": ReviewForm() if request.user.has_perm("loyalty.review_referral") else None,
        "program": selectors.program_settings(),
    }
    return render(request, "loyalty/referrals_list.html", context)


@staff_view("loyalty.review_referral")  # first: strangers see the login, not a 405
@require_POST
def referral_review(request, referral_id: int):
    referral = referral_selectors.referral_list().filter(pk=referral_id).first()
    if referral is None:
        raise Http404
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_referral(
                referral=referral,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
                staff_user=request.user,
            )
        except services.LoyaltyError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Referral reviewed."))
    else:
        messages.error(request, _("Choose a decision and give a reason."))
    return redirect("loyalty:referral_list")


@staff_view("loyalty.change_referralsettings")
def referral_settings(request):
    current = referral_selectors.referral_settings()
    form = ReferralSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_referral_settings(**form.service_fields())
        except services.LoyaltyError as error:
            add_service_errors(form, error, field_map=ReferralSettingsForm.FIELD_MAP)
        else:
            messages.success(request, _("Referral settings saved."))
            return redirect("loyalty:referral_settings")
    status = 400 if form.is_bound else 200
    context = {"form": form, "program": selectors.program_settings()}
    return render(request, "loyalty/referrals_settings.html", context, status=status)
