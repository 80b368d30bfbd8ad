"""Back-office pages of the stamp cards: card types, and redeeming a voucher by its code."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.loyalty import selectors, services, stamp_selectors
from treu.loyalty.models import StampCardType
from treu.loyalty.stamp_forms import RedeemVoucherForm, StampCardTypeForm


@staff_view("loyalty.view_stampcardtype")
def card_type_list(request):
    context = {
        "card_types": stamp_selectors.stamp_card_types(),
        "program": selectors.program_settings(),
        "today": timezone.localdate(),
    }
    return render(request, "loyalty/stamp_card_types.html", context)


@staff_view("loyalty.add_stampcardtype")
def card_type_create(request):
    form = StampCardTypeForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    return _save_card_type(request, form, None)


@staff_view("loyalty.change_stampcardtype")
def card_type_edit(request, card_type_id: int):
    try:
        card_type = stamp_selectors.stamp_card_type(card_type_id)
    except StampCardType.DoesNotExist:
        raise Http404 from None
    form = StampCardTypeForm.for_card_type(card_type, request.POST or None)
    return _save_card_type(request, form, card_type)


def _save_card_type(request, form: StampCardTypeForm, card_type: StampCardType | None):
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_stamp_card_type(card_type=card_type, **form.cleaned_data)
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Stamp card %(name)s saved.") % {"name": saved.name})
            return redirect("loyalty:stamp_card_types")
    context = {"form": form, "card_type": card_type, "program": selectors.program_settings()}
    status = 400 if form.is_bound else 200
    return render(request, "loyalty/stamp_card_type_form.html", context, status=status)


@staff_view("loyalty.redeem_stampvoucher")
def voucher_redeem(request):
    form = RedeemVoucherForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            voucher = services.redeem_stamp_voucher(
                code=form.cleaned_data["code"], staff_user=request.user
            )
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            done = _("Voucher %(code)s redeemed: %(reward)s for %(customer)s.") % {
                "code": voucher.code,
                "reward": voucher.reward_description,
                "customer": voucher.member.customer,
            }
            messages.success(request, done)
            return redirect("loyalty:stamp_voucher_redeem")
    status = 400 if form.is_bound else 200
    return render(request, "loyalty/stamp_redeem.html", {"form": form}, status=status)
