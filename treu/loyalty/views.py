from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.backoffice.pagination import paginate
from treu.loyalty import selectors, services, tier_selectors
from treu.loyalty.forms import AdjustForm, EnrolForm, MemberSearchForm, ProgramSettingsForm
from treu.loyalty.models import Member

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
    request, member: Member, form: AdjustForm | None = None, assign_form=None
) -> dict:
    from treu.loyalty.tier_forms import AssignTierForm

    if form is None and request.user.has_perm("loyalty.adjust_points"):
        form = AdjustForm()
    program = selectors.program_settings()
    progress = tier_selectors.tier_progress(member, point_name=program.point_name)
    if assign_form is None and request.user.has_perm("loyalty.assign_tier"):
        assign_form = AssignTierForm()
    return {
        "member": member,
        "page": paginate(request, selectors.member_ledger(member), per_page=LEDGER_PAGE),
        "program": program,
        "adjust_form": form,
        "progress": progress,
        "assignments": tier_selectors.tier_assignments(member) if progress.set_up else [],
        "assign_form": assign_form,
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
