"""Back-office pages for tiers and points expiry (owner and marketing)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.loyalty import selectors, services, tier_selectors
from treu.loyalty.models import Tier
from treu.loyalty.tier_forms import AssignTierForm, ExpirySettingsForm, TierForm, TierSettingsForm
from treu.loyalty.views import _detail_context, _member_or_404


@staff_view("loyalty.change_tier")
def tier_list(request):
    current = tier_selectors.tier_settings()
    form = TierSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_tier_settings(**{k: form.cleaned_data[k] for k in form.fields})
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Tier settings saved."))
            return redirect("loyalty:tier_list")
    context = {
        "form": form,
        "tiers": tier_selectors.tier_list(),
        "settings": current,
        "program": selectors.program_settings(),
        "distribution": tier_selectors.tier_distribution(),
    }
    return render(request, "loyalty/tiers.html", context, status=400 if form.is_bound else 200)


@staff_view("loyalty.change_tier")
def tier_edit(request, tier_id: int | None = None):
    tier = None
    if tier_id is not None:
        tier = Tier.objects.filter(pk=tier_id).first()
        if tier is None:
            raise Http404
    basis = tier_selectors.tier_settings().basis
    form = TierForm(request.POST or None, instance=tier, basis=basis)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_tier(tier=tier, **form.service_fields())
        except services.LoyaltyError as error:
            add_service_errors(form, error, field_map={"threshold": "threshold_text"})
        else:
            messages.success(request, _("Tier saved."))
            return redirect("loyalty:tier_list")
    context = {"form": form, "tier": tier, "program": selectors.program_settings()}
    return render(request, "loyalty/tier_form.html", context, status=400 if form.is_bound else 200)


@staff_view("loyalty.assign_tier")  # first: strangers see the login, not a 405
@require_POST
def member_assign_tier(request, member_id: int):
    member = _member_or_404(member_id)
    form = AssignTierForm(request.POST)
    if form.is_valid():
        try:
            services.assign_tier(
                member=member,
                tier=form.cleaned_data["tier"],
                reason=form.cleaned_data["reason"],
                staff_user=request.user,
            )
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Tier assignment saved."))
            return redirect("loyalty:member_detail", member_id=member.pk)
    context = _detail_context(request, member, assign_form=form)
    return render(request, "loyalty/member_detail.html", context, status=400)


@staff_view("loyalty.change_expirysettings")
def expiry_settings(request):
    current = services.expiry_settings()
    form = ExpirySettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_expiry_settings(
                mode=form.cleaned_data["mode"], months=form.cleaned_data["months"]
            )
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Expiry settings saved."))
            return redirect("loyalty:expiry")
    context = {"form": form, "expiry": current, "program": selectors.program_settings()}
    return render(request, "loyalty/expiry.html", context, status=400 if form.is_bound else 200)
