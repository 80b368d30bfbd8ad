from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.backoffice.pagination import paginate
from treu.loyalty import selectors, services, stamp_selectors, tier_selectors
from treu.loyalty.action_rule_forms import RecordActionForm
from treu.loyalty.forms import (
    AdjustForm,
    EnrolForm,
    MemberSearchForm,
    PartnerCodesForm,
    ProgramSettingsForm,
    RedeemForm,
    RedemptionSearchForm,
    RewardForm,
)
from treu.loyalty.models import Member, Reward
from treu.loyalty.tier_forms import AssignTierForm

LEDGER_PAGE = 100


def _member_or_404(member_id: int) -> Member:
    try:
        return selectors.member_detail(member_id)
    except Member.DoesNotExist:
        raise Http404 from None


@staff_view("loyalty.view_member")
def member_list(request):
    form = MemberSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    return render(request, "loyalty/member_list.html", _list_context(request, form, query))


def _list_context(request, form: MemberSearchForm, query: str, enrol: EnrolForm | None = None):
    if enrol is None and request.user.has_perm("loyalty.add_member"):
        enrol = EnrolForm()
    return {
        "form": form,
        "page": paginate(request, selectors.member_list(query=query)),
        "program": selectors.program_settings(),
        "enrol_form": enrol,
        "distribution": tier_selectors.tier_distribution(),
    }


@staff_view("loyalty.add_member")  # first: strangers see the login, not a 405
@require_POST
def member_enrol(request):
    form = EnrolForm(request.POST)
    if form.is_valid():
        try:
            member = services.join_program(
                customer=form.cleaned_data["customer"], source="backoffice"
            )
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(customer)s is a member.") % {"customer": member})
            return redirect("loyalty:member_detail", member_id=member.pk)
    context = _list_context(request, MemberSearchForm(), "", form)
    return render(request, "loyalty/member_list.html", context, status=400)


@staff_view("loyalty.view_member")
def member_detail(request, member_id: int):
    member = _member_or_404(member_id)
    return render(request, "loyalty/member_detail.html", _detail_context(request, member))


def _detail_context(
    request,
    member: Member,
    form: AdjustForm | None = None,
    redeem_form: RedeemForm | None = None,
    assign_form=None,
    action_form=None,
) -> dict:
    if form is None and request.user.has_perm("loyalty.adjust_points"):
        form = AdjustForm()
    if redeem_form is None and request.user.has_perm("loyalty.add_redemption"):
        redeem_form = RedeemForm(member=member)
    program = selectors.program_settings()
    progress = tier_selectors.tier_progress(member, point_name=program.point_name)
    if assign_form is None and request.user.has_perm("loyalty.assign_tier"):
        assign_form = AssignTierForm()
    if action_form is None and request.user.has_perm("loyalty.record_action"):
        action_form = RecordActionForm()
    return {
        "member": member,
        "page": paginate(request, selectors.member_ledger(member), per_page=LEDGER_PAGE),
        "program": program,
        "adjust_form": form,
        "redeem_form": redeem_form,
        "coupons": selectors.member_coupons(member),
        "now": timezone.now(),
        "credit_entries": selectors.member_credit(member),
        "stamps": stamp_selectors.member_stamps(member),
        "progress": progress,
        "assignments": tier_selectors.tier_assignments(member) if progress.set_up else [],
        "assign_form": assign_form,
        "action_form": action_form,
    }


@staff_view("loyalty.adjust_points")  # first: strangers see the login, not a 405
@require_POST
def member_adjust(request, member_id: int):
    member = _member_or_404(member_id)
    form = AdjustForm(request.POST)
    if form.is_valid():
        try:
            entry = services.adjust_points(
                member=member,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
                staff_user=request.user,
            )
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            done = _("Points adjusted by %(points)+d.") % {"points": entry.points}
            messages.success(request, done)
            return redirect("loyalty:member_detail", member_id=member.pk)
    context = _detail_context(request, member, form)
    return render(request, "loyalty/member_detail.html", context, status=400)


@staff_view("loyalty.change_programsettings")
def program_settings(request):
    current = selectors.program_settings()
    form = ProgramSettingsForm(request.POST or None, instance=selectors.program_settings())
    if request.method == "POST" and form.is_valid():
        try:
            services.update_program_settings(**{k: form.cleaned_data[k] for k in form.fields})
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Programme settings saved."))
            return redirect("loyalty:settings")
    status = 400 if form.is_bound else 200
    context = {"form": form, "program": current, "example": selectors.example_points(current)}
    return render(request, "loyalty/settings.html", context, status=status)


# -- Rewards ----------------------------------------------------------------------------------


def _reward_or_404(reward_id: int) -> Reward:
    try:
        return selectors.reward_detail(reward_id)
    except Reward.DoesNotExist:
        raise Http404 from None


@staff_view("loyalty.view_reward")
def reward_list(request):
    context = {"rewards": selectors.reward_list(), "program": selectors.program_settings()}
    return render(request, "loyalty/reward_list.html", context)


@staff_view("loyalty.add_reward")
def reward_create(request):
    return _reward_form(request, Reward())


@staff_view("loyalty.change_reward")
def reward_edit(request, reward_id: int):
    return _reward_form(request, _reward_or_404(reward_id))


def _reward_form(request, reward: Reward, codes_form: PartnerCodesForm | None = None):
    posted = request.method == "POST" and codes_form is None  # not the codes' form
    form = RewardForm(request.POST if posted else None, instance=reward)
    if posted and form.is_valid():
        try:
            saved = services.save_reward(reward=reward, **form.service_fields())
        except services.LoyaltyError as error:
            add_service_errors(form, error, field_map=RewardForm.FIELD_MAP)
        else:
            messages.success(request, _("Reward %(name)s saved.") % {"name": saved.name})
            return redirect("loyalty:reward_list")
    context = {
        "form": form,
        "reward": reward,
        "codes_form": codes_form or PartnerCodesForm(),
        "program": selectors.program_settings(),
    }
    status = 400 if form.is_bound or codes_form is not None else 200
    return render(request, "loyalty/reward_form.html", context, status=status)


@staff_view("loyalty.change_reward")  # first: strangers see the login, not a 405
@require_POST
def reward_codes(request, reward_id: int):
    reward = _reward_or_404(reward_id)
    form = PartnerCodesForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added = services.add_partner_codes(reward=reward, text=form.cleaned_data["text"])
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(count)s new codes added.") % {"count": added})
            return redirect("loyalty:reward_edit", reward_id=reward.pk)
    return _reward_form(request, reward, codes_form=form)  # the refused codes, beside the reward


@staff_view("loyalty.view_redemption")
def redemption_list(request):
    form = RedemptionSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    context = {
        "form": form,
        "page": paginate(request, selectors.redemption_list(query=query)),
        "now": timezone.now(),
        "program": selectors.program_settings(),
    }
    return render(request, "loyalty/redemption_list.html", context)


@staff_view("loyalty.add_redemption")  # first: strangers see the login, not a 405
@require_POST
def member_redeem(request, member_id: int):
    member = _member_or_404(member_id)
    form = RedeemForm(request.POST, member=member)
    if form.is_valid():
        try:
            redemption = services.redeem_reward(
                member=member,
                reward=form.cleaned_data["reward"],
                staff_user=request.user,
                source="backoffice",
            )
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _redeemed_message(redemption))
            return redirect("loyalty:member_detail", member_id=member.pk)
    context = _detail_context(request, member, redeem_form=form)
    return render(request, "loyalty/member_detail.html", context, status=400)


def _redeemed_message(redemption) -> str:
    coupon = getattr(redemption, "coupon", None)
    if coupon is None:
        return _("%(reward)s redeemed: store credit booked.") % {"reward": redemption.reward}
    return _("%(reward)s redeemed: coupon %(code)s.") % {
        "reward": redemption.reward,
        "code": coupon.code,
    }
