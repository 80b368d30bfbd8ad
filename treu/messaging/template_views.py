"""Back-office pages for mail templates: list, block editor, preview, test send, delete."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.messaging import services
from treu.messaging import template_forms as tf
from treu.messaging.mail_templates import engine
from treu.messaging.mail_templates import render as mail_render
from treu.messaging.models import MailTemplate

FORM_FIELDS = ("name", "kind", "subject", "preheader")


@staff_view("messaging.view_mailtemplate")
def template_list(request):
    templates = MailTemplate.objects.all()
    return render(request, "messaging/mail_templates/list.html", {"templates": templates})


@staff_view("messaging.add_mailtemplate")
def template_new(request):
    return _editor(request, None)


@staff_view("messaging.change_mailtemplate")
def template_edit(request, template_id: int):
    return _editor(request, get_object_or_404(MailTemplate, pk=template_id))


def _editor(request, mail_template: MailTemplate | None):
    if request.method != "POST":
        form = tf.TemplateForm(initial=tf.initial_for(mail_template))
        blocks = list(mail_template.blocks) if mail_template else []
        return _render_editor(request, mail_template, form, blocks, [])
    form = tf.TemplateForm(request.POST)
    blocks = tf.blocks_from_post(request.POST)
    action = request.POST.get("action", "save")
    if action != "save":
        blocks = tf.apply_action(blocks, action, request.POST.get("new_type", ""))
        return _render_editor(request, mail_template, form, blocks, [], bound_quietly=True)
    block_errors: list[str] = []
    if form.is_valid():
        try:
            mail_template = services.save_mail_template(
                mail_template=mail_template, blocks=blocks, **form.cleaned_data
            )
        except services.MailTemplateError as error:
            for field, problems in error.message_dict.items():
                if field in FORM_FIELDS:
                    for problem in problems:
                        form.add_error(field, problem)
                else:
                    block_errors.extend(problems)
        else:
            messages.success(request, _("Template saved."))
            return redirect("messaging:template_edit", template_id=mail_template.pk)
    return _render_editor(request, mail_template, form, blocks, block_errors, status=400)


def _render_editor(
    request, mail_template, form, blocks, block_errors, *, status=200, bound_quietly=False
):
    if bound_quietly:
        form.errors.clear()  # moving a block is not a save: no "required" errors yet
    context = {
        "mail_template": mail_template,
        "form": form,
        "rows": tf.editor_rows(blocks),
        "block_count": len(blocks),
        "block_errors": block_errors,
        "block_types": tf.block_type_choices(),
        "variables": list(engine.VARIABLES),
    }
    return render(request, "messaging/mail_templates/editor.html", context, status=status)


@staff_view("messaging.view_mailtemplate")
def template_preview(request, template_id: int):
    mail_template = get_object_or_404(MailTemplate, pk=template_id)
    query = request.GET.get("customer", "").strip()
    coupon = request.GET.get("gutschein", "").strip()[:40] or "BEISPIEL-10"
    customer = tf.customer_from_text(query)
    extra = {"gutschein": coupon}
    rendered = None
    if customer is not None:
        rendered = mail_render.render_for_customer(mail_template, customer.pk, extra=extra)
    if rendered is None:
        rendered = mail_render.render_sample(mail_template, extra=extra)
    context = {
        "mail_template": mail_template,
        "customer": customer,
        "query": query,
        "not_found": bool(query) and customer is None,
        "coupon": coupon,
        "rendered": rendered,
    }
    return render(request, "messaging/mail_templates/preview.html", context)


@staff_view("messaging.change_mailtemplate")
@require_POST
def template_test_send(request, template_id: int):
    mail_template = get_object_or_404(MailTemplate, pk=template_id)
    if not request.user.email:
        messages.error(request, _("Your user account has no email address for the test."))
        return redirect("messaging:template_preview", template_id=mail_template.pk)
    customer = tf.customer_from_text(request.POST.get("customer", ""))
    coupon = request.POST.get("gutschein", "").strip()[:40] or "BEISPIEL-10"
    try:
        services.send_test_mail(
            mail_template,
            to_email=request.user.email,
            customer_id=customer.pk if customer else None,
            extra={"gutschein": coupon},
        )
    except services.OutboxError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The test mail to %(email)s is in the outbox.") % {"email": request.user.email},
        )
    query = f"?customer={customer.number}" if customer else ""
    return redirect(reverse("messaging:template_preview", args=[mail_template.pk]) + query)


@staff_view("messaging.delete_mailtemplate")
def template_delete(request, template_id: int):
    mail_template = get_object_or_404(MailTemplate, pk=template_id)
    if request.method != "POST":
        return render(
            request, "messaging/mail_templates/delete.html", {"mail_template": mail_template}
        )
    try:
        services.delete_mail_template(mail_template)
    except services.MailTemplateError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("messaging:template_edit", template_id=mail_template.pk)
    messages.success(request, _("Template “%(name)s” deleted.") % {"name": mail_template.name})
    return redirect("messaging:template_list")
