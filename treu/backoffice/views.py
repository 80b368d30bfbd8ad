from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from treu.backoffice.access import staff_view
from treu.core.models import CapturedMail


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class LoginView(auth_views.LoginView):
    template_name = "backoffice/login.html"
    redirect_authenticated_user = True


@staff_view()
def overview(request):
    return render(request, "backoffice/overview.html", {})


@staff_view("core.view_capturedmail")
def mail_list(request):
    mails = CapturedMail.objects.all()[:200]
    return render(request, "backoffice/mail_list.html", {"mails": mails})


@staff_view("core.view_capturedmail")
def mail_detail(request, mail_id: int):
    mail = get_object_or_404(CapturedMail, pk=mail_id)
    return render(request, "backoffice/mail_detail.html", {"mail": mail})


@staff_view("core.view_capturedmail")
def mail_html(request, mail_id: int):
    mail = get_object_or_404(CapturedMail, pk=mail_id)
    response = HttpResponse(mail.html_body or "", content_type="text/html; charset=utf-8")
    # Shown in a sandboxed frame: a captured mail must not run scripts or load anything.
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    )
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response
