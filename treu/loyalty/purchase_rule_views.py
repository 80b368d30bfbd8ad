"""Back-office pages of the purchase rules (*Kundenbindung → Regeln*): owner and Marketing."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.loyalty import purchase_rule_selectors, selectors, services
from treu.loyalty.models import PurchaseRule
from treu.loyalty.purchase_rule_forms import PurchaseRuleForm
from treu.loyalty.services.purchase_rules import VALUE_FIELD

FIELD_MAP = {"min_order_cents": "min_order"}


@staff_view("loyalty.view_purchaserule")
def purchase_rules(request):
    program = selectors.program_settings()
    rules = list(purchase_rule_selectors.purchase_rules())
    for rule in rules:
        rule.example = _example_of(rule, program)
    context = {"rules": rules, "program": program, "today": timezone.localdate()}
    return render(request, "loyalty/purchase_rules.html", context)


@staff_view("loyalty.add_purchaserule")
def purchase_rule_new(request):
    return _save(request, PurchaseRuleForm.blank(request.POST or None), None)


@staff_view("loyalty.change_purchaserule")
def purchase_rule_edit(request, rule_id: int):
    try:
        rule = purchase_rule_selectors.purchase_rule(rule_id)
    except PurchaseRule.DoesNotExist:
        raise Http404 from None
    if request.method == "POST" and "deactivate" in request.POST:
        services.set_purchase_rule_active(rule=rule, active=False)
        messages.success(request, _("Rule %(name)s switched off.") % {"name": rule.name})
        return redirect("loyalty:purchase_rules")
    return _save(request, PurchaseRuleForm.for_rule(rule, request.POST or None), rule)


def _save(request, form: PurchaseRuleForm, rule: PurchaseRule | None):
    """Save (or, with the preview button, only show what an example order would earn)."""
    program = selectors.program_settings()
    example = None
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        if "preview" in request.POST:
            example = purchase_rule_selectors.rule_example(
                kind=data["kind"],
                value=data.get(VALUE_FIELD[data["kind"]]),
                min_order_cents=data["min_order_cents"],
                program=program,
            )
        else:
            try:
                saved = services.save_purchase_rule(rule=rule, **data)
            except services.LoyaltyError as error:
                add_service_errors(form, error, field_map=FIELD_MAP)
            else:
                messages.success(request, _("Rule %(name)s saved.") % {"name": saved.name})
                return redirect("loyalty:purchase_rules")
    elif rule is not None:
        example = _example_of(rule, program)
    context = {"form": form, "rule": rule, "program": program, "example": example}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "loyalty/purchase_rule_form.html", context, status=status)


def _example_of(rule: PurchaseRule, program):
    return purchase_rule_selectors.rule_example(
        kind=rule.kind,
        value=getattr(rule, VALUE_FIELD[rule.kind]),
        min_order_cents=rule.min_order_cents,
        program=program,
    )
