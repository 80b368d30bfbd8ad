"""The outbox pages: what was sent, what waits, what failed; the blocked addresses."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.pagination import paginate
from treu.messaging import outbox_selectors as selectors
from treu.messaging import services
from treu.messaging.models import MessageStatus, OutboundMessage, Suppression, SuppressionReason
from treu.messaging.outbox_forms import SuppressionForm


@staff_view("messaging.view_outboundmessage")
def outbox(request):
    status = request.GET.get("status") or None
    if status not in MessageStatus.values:
        status = None
    counts = selectors.status_counts()
    context = {
        "counts": counts,
        "statuses": [(value, label, counts[value]) for value, label in MessageStatus.choices],
        "status": status,
        "page": paginate(request, selectors.outbox_messages(status)),
    }
    return render(request, "messaging/outbox.html", context)


@staff_view("messaging.change_outboundmessage")
@require_POST
def resend(request, message_id: int):
    message = get_object_or_404(OutboundMessage, pk=message_id)
    came_from = message.status
    try:
        services.resend_unclear_message(message)
    except services.OutboxError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The mail is queued again."))
    return redirect(f"{reverse('messaging:outbox')}?status={came_from}")


@staff_view("messaging.view_suppression")
def suppression_list(request):
    form = SuppressionForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("messaging.add_suppression"):
            messages.error(request, _("You may not block addresses."))
            return redirect("messaging:suppressions")
        if form.is_valid():
            try:
                services.suppress_address(
                    form.cleaned_data["email"],
                    reason=SuppressionReason.MANUAL,
                    detail=form.cleaned_data["detail"],
                )
            except services.OutboxError as error:
                form.add_error("email", " ".join(error.messages))
            else:
                messages.success(request, _("The address gets no more mails."))
                return redirect("messaging:suppressions")
    context = {"form": form, "page": paginate(request, selectors.suppressions())}
    return render(
        request, "messaging/suppressions.html", context, status=400 if form.errors else 200
    )


@staff_view("messaging.delete_suppression")
@require_POST
def suppression_lift(request, suppression_id: int):
    suppression = get_object_or_404(Suppression, pk=suppression_id)
    services.lift_suppression(suppression)
    messages.success(request, _("%(email)s gets mails again.") % {"email": suppression.email})
    return redirect("messaging:suppressions")
