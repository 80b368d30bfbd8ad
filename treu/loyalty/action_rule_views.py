"""Back-office pages for the earning rules for actions (owner and marketing), and staff
recording a member's action on the member's page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.loyalty import action_rule_selectors, selectors, services
from treu.loyalty.action_rule_forms import ActionRuleForm, RecordActionForm
from treu.loyalty.models import ActionRule
from treu.loyalty.views import _detail_context, _member_or_404


@staff_view("loyalty.view_actionrule")
def action_rule_list(request):
    context = {
        "rules": action_rule_selectors.action_rule_list(),
        "program": selectors.program_settings(),
        "today": timezone.localdate(),
    }
    return render(request, "loyalty/action_rules.html", context)


@staff_view("loyalty.add_actionrule")
def action_rule_new(request):
    return _rule_form(request, None)


@staff_view("loyalty.change_actionrule")
def action_rule_edit(request, rule_id: int):
    try:
        rule = action_rule_selectors.action_rule_detail(rule_id)
    except ActionRule.DoesNotExist:
        raise Http404 from None
    return _rule_form(request, rule)


def _rule_form(request, rule: ActionRule | None):
    form = ActionRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        tiers = fields.pop("eligible_tiers")
        try:
            saved = services.save_action_rule(rule=rule, eligible_tiers=tiers, **fields)
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Rule %(name)s saved.") % {"name": saved.name})
            return redirect("loyalty:action_rules")
    context = {"form": form, "rule": rule, "program": selectors.program_settings()}
    status = 400 if form.is_bound else 200
    return render(request, "loyalty/action_rule_form.html", context, status=status)


@staff_view("loyalty.record_action")  # first: strangers see the login, not a 405
@require_POST
def member_record_action(request, member_id: int):
    member = _member_or_404(member_id)
    form = RecordActionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            outcome = services.record_action(
                customer=member.customer,
                action=data["action"],
                reference=data["reference"] or services.staff_reference(),
                network=data["network"],
                event=data["event"],
                staff_user=request.user,
                source="backoffice",
            )
        except services.LoyaltyError as error:
            add_service_errors(form, error)
        else:
            if outcome.awards:
                done = _("%(count)s %(points)s awarded.") % {
                    "count": outcome.points,
                    "points": selectors.program_settings().point_name,
                }
                messages.success(request, done)
            else:
                messages.warning(request, outcome.message)
            return redirect("loyalty:member_detail", member_id=member.pk)
    context = _detail_context(request, member, action_form=form)
    return render(request, "loyalty/member_detail.html", context, status=400)
