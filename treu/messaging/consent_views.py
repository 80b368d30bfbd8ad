"""Public consent pages (no login): sign-up, the embeddable form's target, confirmation,
unsubscribe (with the RFC 8058 one-click POST), reason and preferences.

The embeddable form posts from the owner's shop, another site, so it cannot carry our CSRF
token (a static HTML snippet has none to give). Its endpoint is csrf_exempt: a forged
cross-site sign-up can do no more than a visitor typing the address, and that ends in a
confirmation mail that changes nothing unless the address's owner clicks. Bots are held off
by the honeypot field and the per-IP limit; nobody is flooded with mails by the resend pause.
"""

from __future__ import annotations

from ipaddress import ip_address

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from treu.backoffice.forms import add_service_errors
from treu.messaging import selectors, services
from treu.messaging.consent_forms import PreferencesForm, ReasonForm, SignupForm
from treu.messaging.models import ConsentSource, ConsentState, WithdrawalMethod


def client_ip(request) -> str | None:
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ip_address(raw))
    except ValueError:
        return None


def _signup(request, source: str):
    wording = selectors.current_text()
    form = SignupForm(request.POST or None, wording=wording)
    if request.method == "POST" and form.is_bot:
        return redirect("messaging:consent_signup_done")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.subscribe_to_newsletter(
                data["email"],
                source=source,
                ip=client_ip(request),
                text_version=data["text_version"],
                topics=data["topics"],
                first_name=data["first_name"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("messaging:consent_signup_done")
    status = 400 if form.is_bound else 200
    context = {"form": form, "wording": wording}
    return render(request, "messaging/public/signup.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def signup(request):
    return _signup(request, ConsentSource.PAGE)


@csrf_exempt  # posted from the owner's shop; see the module's docstring
@never_cache
@require_POST
def signup_embedded(request):
    return _signup(request, ConsentSource.EMBED)


@never_cache
def signup_done(request):
    return render(request, "messaging/public/signup_done.html")


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """GET shows a button, POST confirms: mail scanners that open links must not confirm."""
    if request.method == "POST":
        try:
            consent = services.confirm_consent(token=token, ip=client_ip(request))
        except services.ConsentLinkError as error:
            context = {"problem": error.problem, "message": error.messages[0]}
            return render(request, "messaging/public/confirm_problem.html", context, status=400)
        return render(request, "messaging/public/confirmed.html", {"consent": consent})
    check = services.check_confirmation_token(token)
    if not check.usable:
        context = {"problem": check.problem, "message": _(services.LINK_MESSAGES[check.problem])}
        return render(request, "messaging/public/confirm_problem.html", context, status=400)
    return render(request, "messaging/public/confirm.html", {"consent": check.consent})


def _target_or_404(token: str):
    target = selectors.unsubscribe_target(token)
    if target is None:
        raise Http404
    return target


@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """The visible link in every mail: one button stops marketing on the channel at once."""
    target = _target_or_404(token)
    if request.method == "POST":
        services.withdraw_consent(
            customer=target.customer,
            channel=target.channel,
            method=WithdrawalMethod.LINK,
            ip=client_ip(request),
        )
        return redirect("messaging:unsubscribe_reason", token=token)
    active = target.consent is not None and target.consent.state in (
        ConsentState.ACTIVE,
        ConsentState.PENDING,
    )
    context = {"token": token, "target": target, "active": active}
    return render(request, "messaging/public/unsubscribe.html", context)


@csrf_exempt  # RFC 8058: mail programs POST without cookies; the signed token is the key
@require_POST
def unsubscribe_one_click(request, token: str):
    target = selectors.unsubscribe_target(token)
    if target is None:
        return HttpResponse(_("Unknown unsubscribe link."), status=404, content_type="text/plain")
    services.withdraw_consent(
        customer=target.customer,
        channel=target.channel,
        method=WithdrawalMethod.ONE_CLICK,
        ip=client_ip(request),
    )
    return HttpResponse(_("You have been unsubscribed."), content_type="text/plain")


@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_reason(request, token: str):
    target = _target_or_404(token)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_withdrawal_reason(
                customer=target.customer, channel=target.channel, reason=form.reason_text()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return render(request, "messaging/public/reason_thanks.html", {"token": token})
    status = 400 if form.is_bound else 200
    context = {"form": form, "token": token, "target": target}
    return render(request, "messaging/public/unsubscribed.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request, token: str):
    target = _target_or_404(token)
    consent = target.consent
    active = consent is not None and consent.state == ConsentState.ACTIVE
    initial = (
        {
            "topics": list(consent.topics.all()),
            "frequency": consent.frequency,
            "tracking": consent.tracking,
        }
        if active
        else {}
    )
    form = PreferencesForm(request.POST or None, initial=initial)
    saved = False
    if request.method == "POST" and active and form.is_valid():
        try:
            services.update_preferences(
                customer=target.customer,
                channel=target.channel,
                topics=form.cleaned_data["topics"],
                frequency=form.cleaned_data["frequency"],
                tracking=form.cleaned_data["tracking"],
                ip=client_ip(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            saved = True
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "token": token, "active": active, "saved": saved}
    return render(request, "messaging/public/preferences.html", context, status=status)
