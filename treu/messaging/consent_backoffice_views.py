"""Back-office pages of the consent part: overview, texts, topics, the embeddable form, and
a customer's printable consent proof."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.messaging import selectors, services
from treu.messaging.consent_forms import ConsentTextForm, StaffWithdrawForm, TopicForm
from treu.messaging.consent_mail import absolute
from treu.messaging.models import Channel, Topic, WithdrawalMethod


@staff_view("messaging.view_consent")
def overview(request):
    context = {"overview": selectors.consent_overview(), "pending_days": services.pending_days()}
    return render(request, "messaging/consent_overview.html", context)


@staff_view("messaging.view_consenttext")
def texts(request):
    context = {"texts": selectors.consent_texts(), "form": ConsentTextForm()}
    return render(request, "messaging/consent_texts.html", context)


@staff_view("messaging.add_consenttext")
@require_POST
def text_publish(request):
    form = ConsentTextForm(request.POST)
    if form.is_valid():
        try:
            text = services.publish_consent_text(
                channel=Channel.EMAIL, created_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Version %(version)s published.") % {"version": text.version}
            )
            return redirect("messaging:consent_texts")
    context = {"texts": selectors.consent_texts(), "form": form}
    return render(request, "messaging/consent_texts.html", context, status=400)


@staff_view("messaging.view_topic")
def topics(request):
    return render(request, "messaging/consent_topics.html", {"topics": selectors.all_topics()})


@staff_view("messaging.add_topic")
def topic_new(request):
    return _topic_form(request, None)


@staff_view("messaging.change_topic")
def topic_edit(request, topic_id: int):
    try:
        topic = selectors.topic_detail(topic_id)
    except Topic.DoesNotExist:
        raise Http404 from None
    return _topic_form(request, topic)


def _topic_form(request, topic: Topic | None):
    initial = {f: getattr(topic, f) for f in services.consent.TOPIC_FIELDS} if topic else None
    form = TopicForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_topic(topic=topic, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Topic %(name)s saved.") % {"name": saved.name})
            return redirect("messaging:consent_topics")
    status = 400 if form.is_bound else 200
    context = {"form": form, "topic": topic}
    return render(request, "messaging/consent_topic_form.html", context, status=status)


@staff_view("messaging.view_consent")
def embed(request):
    wording = selectors.current_text()
    snippet = {
        "wording": wording,
        "topics": selectors.offered_topics(),
        "action": absolute(reverse("messaging:consent_signup_embed")),
    }
    context = {
        "wording": wording,
        "snippet": render_to_string("messaging/embed_snippet.html", snippet) if wording else "",
        "page_url": absolute(reverse("messaging:consent_signup")),
    }
    return render(request, "messaging/consent_embed.html", context)


def _customer_or_404(customer_id: int):
    customer = selectors.customer_for_proof(customer_id)
    if customer is None:
        raise Http404
    return customer


@staff_view("messaging.view_consent_proof")
def proof(request, customer_id: int):
    customer = _customer_or_404(customer_id)
    return render(request, "messaging/consent_proof.html", _proof_context(customer))


def _proof_context(customer, form=None) -> dict:
    consent = selectors.consent_of(customer)
    return {
        "customer": customer,
        "consent": consent,
        "records": selectors.consent_history(customer),
        "may_send": selectors.may_send_marketing(customer),
        "form": form or StaffWithdrawForm(),
    }


@staff_view("messaging.change_consent")
@require_POST
def staff_withdraw(request, customer_id: int):
    customer = _customer_or_404(customer_id)
    form = StaffWithdrawForm(request.POST)
    if not form.is_valid():
        context = _proof_context(customer, form)
        return render(request, "messaging/consent_proof.html", context, status=400)
    services.withdraw_consent(
        customer=customer,
        method=WithdrawalMethod.BACKOFFICE,
        reason=form.cleaned_data["reason"],
        staff_user=request.user,
    )
    messages.success(request, _("The unsubscribe was recorded; no more marketing mails."))
    return redirect("messaging:consent_proof", customer_id=customer.pk)
