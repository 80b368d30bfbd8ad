"""The analytics pages: overview, RFM segments, the customers behind a number, settings, CSV."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.analytics import advisor, export, selectors, services
from treu.analytics import experiments as experiment_metrics
from treu.analytics import report as report_module
from treu.analytics.charts import calibration_chart, dashboard_charts
from treu.analytics.forms import DecisionForm, ExperimentForm, SettingsForm
from treu.analytics.models import Experiment, month_index, month_start
from treu.backoffice.access import staff_view
from treu.backoffice.pagination import paginate
from treu.messaging import services as messaging_services

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
        "attribution_days": django_settings.MESSAGING_ATTRIBUTION_DAYS,
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
    from treu.analytics.prediction import ADVICE

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


@staff_view(VIEW)
@require_POST
def customers_to_segment(request):
    """The customers behind a number become a segment (a fixed list) in one click."""
    if not request.user.has_perm("messaging.add_segment"):
        raise PermissionDenied
    try:
        drill = selectors.drill(request.GET)
    except selectors.DrillError:
        raise Http404(_("This list does not exist.")) from None
    name = request.POST.get("name", "").strip() or drill_segment_name(drill)
    try:
        segment = messaging_services.segment_from_customers(
            name=name,
            customers=selectors.drill_rows(drill),
            source=request.GET.urlencode(),
            by=request.user,
        )
    except messaging_services.SegmentError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(f"{reverse('analytics:customers')}?{request.GET.urlencode()}")
    messages.success(
        request, _("The segment “%(name)s” holds these customers.") % {"name": segment.name}
    )
    return redirect("messaging:segment_detail", segment_id=segment.pk)


def drill_segment_name(drill) -> str:
    if drill.month is None:
        return f"{drill.title} ({timezone.localdate():%d.%m.%Y})"[:100]
    if drill.period == 1:
        when = formats.date_format(drill.end, "F Y")
    else:
        when = f"{formats.date_format(drill.start, 'M Y')}–{formats.date_format(drill.end, 'M Y')}"
    return f"{drill.title}, {when}"[:100]


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
                monthly_report=data["monthly_report"],
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


@staff_view(VIEW)
def report(request):
    """The monthly report as a printable page (the browser saves it as PDF)."""
    now_month = month_index(timezone.localdate())
    months = report_module.report_months(now_month=now_month)
    month = None
    if request.GET.get("month"):
        try:
            month = selectors.parse_month(request.GET["month"])
        except selectors.DrillError:
            month = None
    if month is None and months:
        month = month_index(months[0])
    runs = selectors.run_state()
    as_of = runs.last_done.as_of if runs.last_done else None
    figures = report_module.monthly_report(month, rfm_as_of=as_of) if month is not None else None
    context = {"report": figures, "months": months, "runs": runs}
    return render(request, "analytics/report.html", context)


def _experiment_months(now_month: int) -> list:
    """Months an experiment may start in: three ahead, this one, and every one with figures."""
    known = {month_index(m) for m in selectors.dashboard(period=1).months}
    indexes = sorted(known | set(range(now_month - 12, now_month + 4)), reverse=True)
    return [month_start(i) for i in indexes]


@staff_view(VIEW)
def experiments(request):
    now_month = month_index(timezone.localdate())
    form = ExperimentForm(
        request.POST or None,
        months=_experiment_months(now_month),
        metrics=experiment_metrics.metric_choices(),
        control_groups=experiment_metrics.control_group_choices(),
        initial={"first_month": f"{month_start(now_month):%Y-%m}"},
    )
    if request.method == "POST":
        if not request.user.has_perm("analytics.add_experiment"):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                experiment = services.start_experiment(
                    title=data["title"],
                    hypothesis=data["hypothesis"],
                    metric=data["metric"],
                    first_month=selectors.parse_month(data["first_month"]),
                    months=data["months"],
                    control_group=data["control_group"],
                    by=request.user,
                )
            except services.AnalyticsError as error:
                for name, problems in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, problems)
            else:
                messages.success(request, _("The experiment is in the log."))
                return redirect("analytics:experiment", experiment_id=experiment.pk)
    context = {
        "form": form,
        "log": selectors.experiment_log(),
        "runs": selectors.run_state(),
    }
    return render(
        request, "analytics/experiments.html", context, status=400 if form.errors else 200
    )


@staff_view(VIEW)
def experiment(request, experiment_id: int):
    item = get_object_or_404(Experiment, pk=experiment_id)
    decision_form = DecisionForm(
        request.POST if request.POST.get("action") == "decide" else None,
        initial={"decision": item.decision, "notes": item.notes},
    )
    if request.method == "POST":
        if not request.user.has_perm("analytics.change_experiment"):
            raise PermissionDenied
        try:
            if request.POST.get("action") == "evaluate":
                services.evaluate_experiment(item)
                messages.success(request, _("The result is in."))
                return redirect("analytics:experiment", experiment_id=item.pk)
            if decision_form.is_valid():
                services.decide_experiment(
                    item,
                    decision=decision_form.cleaned_data["decision"],
                    notes=decision_form.cleaned_data["notes"],
                )
                messages.success(request, _("Decision saved."))
                return redirect("analytics:experiment", experiment_id=item.pk)
        except services.AnalyticsError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("analytics:experiment", experiment_id=item.pk)
    context = {
        "item": selectors.experiment_entry(item),
        "decision_form": decision_form,
        "runs": selectors.run_state(),
    }
    return render(request, "analytics/experiment.html", context)


@staff_view(VIEW)
def next_steps(request):
    figures, found = advisor.advice(now_month=month_index(timezone.localdate()))
    context = {"figures": figures, "advice": found, "runs": selectors.run_state()}
    return render(request, "analytics/next_steps.html", context)
