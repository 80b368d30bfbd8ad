"""The cashier screen (Kasse) and the printable member card.

The till is a tablet page: find the member (scan the card, or type number, email or a
name), then book a purchase, stamps or a redemption in one or two taps, and undo the
last booking within 5 minutes. Every booking redirects back to the member (a reload
never books twice) and carries the key the page was rendered with.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.core.money import format_euro
from treu.loyalty import selectors, services, store_selectors
from treu.loyalty.forms import EnrolForm
from treu.loyalty.models import Member, TillAction, TillActionKind
from treu.loyalty.store_forms import (
    PurchaseForm,
    StampsForm,
    TillRedeemForm,
    TillSearchForm,
    TillSettingsForm,
    new_key,
)


def _member_or_404(member_id: int) -> Member:
    try:
        member = selectors.member_detail(member_id)
    except Member.DoesNotExist:
        raise Http404 from None
    if member.customer.erased_at:
        raise Http404
    return member


@staff_view("loyalty.use_till")
def till(request):
    form = TillSearchForm(request.GET or None)
    lookup = None
    if form.is_valid():
        lookup = store_selectors.find_members(form.cleaned_data["q"])
        if len(lookup.members) == 1 and not lookup.more:
            return redirect("loyalty:till_member", member_id=lookup.members[0].pk)
    context = {
        "search_form": form,
        "lookup": lookup,
        "program": selectors.program_settings(),
        "enrol_form": EnrolForm(),
    }
    return render(request, "loyalty/till.html", context)


@staff_view("loyalty.use_till")
def till_member(request, member_id: int):
    return _member_page(request, _member_or_404(member_id))


def _member_page(request, member: Member, *, failed: str = "", form=None, status: int = 200):
    view = store_selectors.till_view(member, user=request.user)
    key = form.data.get("key") if form is not None else new_key()
    settings = services.till_settings()
    context = {
        "view": view,
        "member": member,
        "program": view.program,
        "key": key or new_key(),
        "search_form": TillSearchForm(),
        "purchase_form": form if failed == "purchase" else PurchaseForm(),
        "failed": failed,
        "form": form,
        "store": services.store_shop(settings),
        "can_card": request.user.has_perm("loyalty.view_membercard"),
    }
    return render(request, "loyalty/till_member.html", context, status=status)


def _booked(request, member: Member, action: TillAction, created: bool):
    if not created:
        messages.info(request, _("This was already booked (the form was sent twice)."))
    else:
        messages.success(request, _describe(action))
    return redirect("loyalty:till_member", member_id=member.pk)


def _describe(action: TillAction) -> str:
    if action.kind == TillActionKind.PURCHASE:
        return _("Purchase of %(amount)s booked.") % {"amount": format_euro(action.amount_cents)}
    if action.kind == TillActionKind.STAMPS:
        return _("%(count)s stamps added to %(card)s.") % {
            "count": action.stamps,
            "card": action.card_type.name,
        }
    return _("%(reward)s redeemed.") % {"reward": action.redemption.reward.name}


def _book(request, member_id: int, form_class, failed: str, book):
    member = _member_or_404(member_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action, created = book(member, form.cleaned_data)
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            return _booked(request, member, action, created)
    return _member_page(request, member, failed=failed, form=form, status=400)


@staff_view("loyalty.use_till")  # first: strangers see the login, not a 405
@require_POST
def till_purchase(request, member_id: int):
    def book(member, data):
        return services.record_store_purchase(
            member=member, amount_cents=data["amount"], staff_user=request.user, key=data["key"]
        )

    return _book(request, member_id, PurchaseForm, "purchase", book)


@staff_view("loyalty.use_till")
@require_POST
def till_stamps(request, member_id: int):
    def book(member, data):
        return services.give_store_stamps(
            member=member,
            card_type=data["card_type"],
            count=data["count"],
            staff_user=request.user,
            key=data["key"],
        )

    return _book(request, member_id, StampsForm, "stamps", book)


@staff_view("loyalty.use_till")
@require_POST
def till_redeem(request, member_id: int):
    def book(member, data):
        return services.redeem_at_till(
            member=member, reward=data["reward"], staff_user=request.user, key=data["key"]
        )

    return _book(request, member_id, TillRedeemForm, "redeem", book)


@staff_view("loyalty.use_till")
@require_POST
def till_undo(request, member_id: int, action_id: int):
    member = _member_or_404(member_id)
    action = TillAction.objects.filter(pk=action_id, member=member).first()
    if action is None:
        raise Http404
    try:
        services.undo_till_action(action=action, staff_user=request.user)
    except services.LoyaltyError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Undone: %(what)s") % {"what": _describe(action)})
    return redirect("loyalty:till_member", member_id=member.pk)


@staff_view("loyalty.use_till")  # joining at the counter is part of the till
@require_POST
def till_enrol(request):
    form = EnrolForm(request.POST)
    if form.is_valid():
        try:
            member = services.join_program(customer=form.cleaned_data["customer"], source="till")
        except services.LoyaltyError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("%(customer)s is a member.") % {"customer": member})
            return redirect("loyalty:till_member", member_id=member.pk)
    else:
        for message in form.errors.get("customer", []):
            messages.error(request, message)
    return redirect("loyalty:till")


@staff_view("loyalty.change_tillsettings")
def till_settings(request):
    current = services.till_settings()
    initial = {"shop": current.shop, "tax_rate_bp": current.tax_rate_bp}
    form = TillSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_till_settings(**form.cleaned_data)
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Till settings saved."))
            return redirect("loyalty:till_settings")
    status = 400 if form.is_bound else 200
    context = {"form": form, "current": current, "store": services.store_shop(current)}
    return render(request, "loyalty/till_settings.html", context, status=status)


# -- The member card ---------------------------------------------------------------------------


@staff_view("loyalty.view_membercard")
def member_card(request, member_id: int):
    member = _member_or_404(member_id)
    card = store_selectors.member_card(member)
    context = {
        "member": member,
        "card": card,
        # segno's SVG: built from the code alone, nothing in it comes from the user.
        "qr": mark_safe(store_selectors.card_qr_svg(card.code)) if card else "",  # noqa: S308
        "program": selectors.program_settings(),
        "back": request.GET.get("from") == "till",
    }
    return render(request, "loyalty/member_card.html", context)


@staff_view("loyalty.add_membercard")
@require_POST
def member_card_issue(request, member_id: int):
    member = _member_or_404(member_id)
    replace = request.POST.get("replace") == "1"
    if replace and not request.user.has_perm("loyalty.change_membercard"):
        raise PermissionDenied
    services.issue_member_card(member=member, staff_user=request.user, replace=replace)
    if replace:
        messages.success(request, _("New card issued: the old card no longer works."))
    url = reverse("loyalty:member_card", args=[member.pk])
    return redirect(f"{url}?from=till" if request.POST.get("from") == "till" else url)
