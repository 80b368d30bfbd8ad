"""Back-office pages of automations: the list with switches, a flow with its steps and
figures, editing a flow and a step, and the staff tasks automations hand over."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.messaging import flow_forms
from treu.messaging.flows import selectors, services
from treu.messaging.flows.steps import FlowError


def _flow_or_404(flow_id: int):
    flow = selectors.flow_by_id(flow_id)
    if flow is None:
        raise Http404
    return flow


@staff_view("messaging.view_flow")
def flow_list(request):
    flows, sent = list(selectors.flow_list()), selectors.sent_per_flow()
    for flow in flows:
        flow.sent = sent.get(flow.pk, 0)
    context = {"flows": flows}
    return render(request, "messaging/flows/list.html", context)


@staff_view("messaging.view_flow")
def flow_detail(request, flow_id: int):
    flow = _flow_or_404(flow_id)
    context = {
        "flow": flow,
        "trigger_figures": [
            (flow_forms.TRIGGER_LABELS.get((flow.trigger, key), key), value)
            for key, value in flow.trigger_settings.items()
        ],
        "rows": selectors.step_rows(flow),
        "outcome": selectors.flow_outcome(flow, now=timezone.now()),
    }
    return render(request, "messaging/flows/detail.html", context)


@staff_view("messaging.change_flow")
@require_POST
def flow_switch(request, flow_id: int):
    flow = _flow_or_404(flow_id)
    on = request.POST.get("active") == "1"
    try:
        services.switch_flow(flow=flow, active=on)
    except FlowError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if on:
            messages.success(request, _("“%(name)s” is switched on.") % {"name": flow.name})
        else:
            messages.success(
                request,
                _("“%(name)s” is switched off; its running enrollments were ended.")
                % {"name": flow.name},
            )
    if request.POST.get("next") == "list":
        return redirect("messaging:flow_list")
    return redirect("messaging:flow_detail", flow_id=flow.pk)


@staff_view("messaging.change_flow")
def flow_edit(request, flow_id: int):
    flow = _flow_or_404(flow_id)
    form = flow_forms.FlowForm(request.POST or None, flow=flow)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_flow(
                flow=flow,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                control_percent=form.cleaned_data["control_percent"],
                trigger_settings=form.trigger_settings(),
            )
        except FlowError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Automation saved."))
            return redirect("messaging:flow_detail", flow_id=flow.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "messaging/flows/edit.html", {"flow": flow, "form": form}, status=status)


@staff_view("messaging.change_flow")
def step_edit(request, flow_id: int, step_id: int):
    flow = _flow_or_404(flow_id)
    step = selectors.step_by_id(flow, step_id)
    if step is None:
        raise Http404
    form = flow_forms.StepForm(request.POST or None, step=step)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_step(step=step, settings=form.settings())
        except FlowError as error:
            add_service_errors(form, error, field_map={"amount_cents": "amount"})
        else:
            messages.success(request, _("Step saved."))
            return redirect("messaging:flow_detail", flow_id=flow.pk)
    context = {"flow": flow, "step": step, "form": form}
    status = 400 if request.method == "POST" else 200
    return render(request, "messaging/flows/step_edit.html", context, status=status)


@staff_view("messaging.view_stafftask")
def task_list(request):
    context = {"tasks": selectors.open_tasks()[:200], "done": selectors.done_tasks()}
    return render(request, "messaging/flows/tasks.html", context)


@staff_view("messaging.change_stafftask")
@require_POST
def task_done(request, task_id: int):
    task = selectors.task_by_id(task_id)
    if task is None:
        raise Http404
    services.complete_task(task=task, by=request.user)
    messages.success(request, _("Task marked as done."))
    return redirect("messaging:task_list")
