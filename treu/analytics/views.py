"""The analytics pages: overview, RFM segments, the customers behind a number, settings, CSV."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.analytics import export, selectors, services
from treu.analytics.charts import calibration_chart, dashboard_charts
from treu.analytics.forms import SettingsForm
from treu.analytics.models import month_index
from treu.analytics.prediction import ADVICE
from treu.backoffice.access import staff_view
from treu.backoffice.pagination import paginate

VIEW = "analytics.view_analytics"


def _dashboard(request) -> selectors.Dashboard:
    """The overview for the period and month in the query string (bad values: the defaults)."""
    period = request.GET.get("period", "12")
    try:
        month = selectors.parse_month(request.GET["month"]) if request.GET.get("month") else None
    except selectors.DrillError:
        month = None
    return selectors.dashboard(
        period=int(period) if period.isdigit() else 12,
        month=month,
        now_month=month_index(timezone.localdate()),
    )


@staff_view(VIEW)
def dashboard(request):
    figures = _dashboard(request)
    by = "revenue" if request.GET.get("cohorts") == "revenue" else "customers"
    context = {
        "d": figures,
        "charts": dashboard_charts(figures) if figures.trend else {},
        "cohorts": selectors.cohorts(by=by),
        "cohorts_by": by,
        "runs": selectors.run_state(),
        "periods": selectors.PERIODS,
    }
    return render(request, "analytics/dashboard.html", context)


@staff_view(VIEW)
def segments(request):
    runs = selectors.run_state()
    as_of = runs.last_done.as_of if runs.last_done else None
    context = {"overview": selectors.rfm_overview(as_of=as_of), "runs": runs}
    return render(request, "analytics/segments.html", context)


@staff_view(VIEW)
def prediction(request):
    runs = selectors.run_state()
    overview = selectors.prediction_overview(runs.last_done)
    chart = calibration_chart(overview.calibration) if overview.calibration else None
    context = {"p": overview, "runs": runs, "chart": chart, "advice": ADVICE}
    return render(request, "analytics/prediction.html", context)


@staff_view(VIEW)
def customers(request):
    try:
        drill = selectors.drill(request.GET)
    except selectors.DrillError:
        raise Http404(_("This list does not exist.")) from None
    page = paginate(request, drill.figures)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"drill": drill, "page": page, "query": query.urlencode()}
    return render(request, "analytics/customers.html", context)


@staff_view("analytics.change_analyticssettings")
def settings_view(request):
    current = selectors.analytics_settings()
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            services.update_settings(
                active_window_months=data["active_window_months"],
                target_retention_pct=data["target_retention_pct"],
                target_churn_pct=data["target_churn_pct"],
                target_clv_cents=data["target_clv"],
                target_nps=data["target_nps"],
                industry=data["industry"],
                clv_discount_pct=data["clv_discount_pct"],
            )
            rate = data["clv_discount_pct"]
            if data["active_window_months"] != current.active_window_months or (
                rate is not None and rate != current.clv_discount_pct
            ):
                services.request_recompute(by=request.user)
            messages.success(request, _("Settings saved."))
            return redirect("analytics:dashboard")
    else:
        form = SettingsForm(initial=SettingsForm.initial_from(current))
    return render(request, "analytics/settings.html", {"form": form, "current": current})


@staff_view("analytics.recompute_analytics")  # first: strangers see the login, not a 405
@require_POST
def recompute(request):
    services.request_recompute(by=request.user)
    messages.success(request, _("The figures are being recomputed; reload the page in a moment."))
    return redirect("analytics:dashboard")


@staff_view(VIEW)
def export_csv(request, table: str):
    if table == "kpis":
        header, rows = export.period_table(_dashboard(request))
    elif table == "cohorts":
        header, rows = export.cohort_table(selectors.cohorts())
    elif table in ("segments", "moves", "rfm-grid"):
        overview = selectors.rfm_overview()  # the months' names are not in the CSV
        make = {"segments": export.segment_table, "moves": export.move_table}
        header, rows = make.get(table, export.grid_table)(overview)
    elif table == "customers":
        try:
            header, rows = export.customer_table(selectors.drill(request.GET).figures)
        except selectors.DrillError:
            raise Http404(_("This list does not exist.")) from None
    else:
        raise Http404(_("This table does not exist."))
    response = StreamingHttpResponse(
        export.rows_as_csv(header, rows), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="treu-{table}-{stamp}.csv"'
    return response
