"""Back-office pages for campaigns: list, editor with the audience, results, send, cancel;
and the sending rules (frequency cap, quiet hours)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.messaging import campaign_forms as cf
from treu.messaging import selectors, services


def _campaign_or_404(campaign_id: int):
    campaign = selectors.campaign_by_id(campaign_id)
    if campaign is None:
        raise Http404
    return campaign


@staff_view("messaging.view_campaign")
def campaign_list(request):
    return render(
        request, "messaging/campaigns/list.html", {"campaigns": selectors.campaign_list()}
    )


@staff_view("messaging.add_campaign")
def campaign_new(request):
    return _editor(request, None)


@staff_view("messaging.change_campaign")
def campaign_edit(request, campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if not campaign.editable:
        messages.error(request, _("Only draft and scheduled campaigns can be changed."))
        return redirect("messaging:campaign_detail", campaign_id=campaign.pk)
    return _editor(request, campaign)


def _editor(request, campaign):
    if request.method != "POST":
        form = cf.CampaignForm(initial=cf.initial_for(campaign))
        return _render_editor(request, campaign, form)
    form = cf.CampaignForm(request.POST)
    saving = request.POST.get("action") == "save"
    if not saving:
        form.is_valid()  # "Update count": show the audience, no errors yet
        form.errors.clear()
    elif form.is_valid():
        try:
            campaign = services.save_campaign(
                campaign=campaign, data=form.to_input(), by=request.user
            )
        except services.CampaignError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Campaign saved as a draft."))
            return redirect("messaging:campaign_detail", campaign_id=campaign.pk)
    return _render_editor(request, campaign, form, status=400 if saving else 200)


def _render_editor(request, campaign, form, *, status: int = 200):
    values = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    segment = values.get("segment") or (campaign.segment if campaign else None)
    topic = values.get("topic") if form.is_bound else (campaign.topic if campaign else None)
    percent = values.get("control_percent")
    if percent is None:
        percent = campaign.control_percent if campaign else 10
    audience = (
        selectors.audience(segment, topic=topic, control_percent=percent) if segment else None
    )
    context = {"campaign": campaign, "form": form, "audience": audience, "segment": segment}
    return render(request, "messaging/campaigns/editor.html", context, status=status)


@staff_view("messaging.view_campaign")
def campaign_detail(request, campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    context = {"campaign": campaign}
    if campaign.started_at:
        context["results"] = selectors.campaign_results(campaign, now=timezone.now())
    elif campaign.segment:
        context["audience"] = selectors.audience(
            campaign.segment, topic=campaign.topic, control_percent=campaign.control_percent
        )
    return render(request, "messaging/campaigns/detail.html", context)


@staff_view("messaging.change_campaign")
@require_POST
def campaign_send(request, campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    try:
        campaign = services.schedule_campaign(campaign)
    except services.CampaignError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if campaign.send_date:
            messages.success(request, _("The campaign is scheduled."))
        else:
            messages.success(request, _("The campaign is being sent."))
    return redirect("messaging:campaign_detail", campaign_id=campaign.pk)


@staff_view("messaging.change_campaign")
@require_POST
def campaign_cancel(request, campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    try:
        services.cancel_campaign(campaign)
    except services.CampaignError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The campaign is cancelled."))
    return redirect("messaging:campaign_detail", campaign_id=campaign.pk)


@staff_view("messaging.view_sendingrules")
def sending_rules(request):
    rules = selectors.sending_rules()
    initial = {
        "weekly_cap": rules.weekly_cap,
        "quiet_from": rules.quiet_from,
        "quiet_until": rules.quiet_until,
    }
    form = cf.SendingRulesForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.user.has_perm("messaging.change_sendingrules"):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.save_sending_rules(**form.cleaned_data)
            except services.SendingRulesError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Sending rules saved."))
                return redirect("messaging:sending_rules")
    status = 400 if form.is_bound else 200
    return render(request, "messaging/campaigns/rules.html", {"form": form}, status=status)
