from __future__ import annotations

from datetime import datetime, time

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET

from treu.backoffice.access import staff_view
from treu.backoffice.charts import bar_chart
from treu.backoffice.pagination import paginate
from treu.commerce import selectors as commerce_selectors
from treu.core.models import CapturedMail
from treu.customers import selectors as customer_selectors


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
    # Business figures only for roles that may see orders; the till gets a plain welcome.
    context = {}
    if request.user.has_perm("commerce.view_order"):
        figures = commerce_selectors.dashboard()
        context["figures"] = figures
        context["people"] = customer_selectors.customer_base(new_since=_start_of_month())
        context["chart"] = revenue_chart(figures.months)
    return render(request, "backoffice/overview.html", context)


def _start_of_month():
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today.replace(day=1), time.min))


def revenue_chart(months):
    """Twelve monthly bars, labelled with the localised month abbreviation."""
    return bar_chart([(date_format(m.month, "M"), m.revenue_cents) for m in months], left=72)


@staff_view("core.view_capturedmail")
def mail_list(request):
    page = paginate(request, CapturedMail.objects.all())
    return render(request, "backoffice/mail_list.html", {"page": page, "mails": page.object_list})


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
