from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.pagination import paginate
from treu.imports import selectors, services
from treu.imports.forms import UploadForm
from treu.imports.models import ImportJob

PERMISSION = "imports.add_importjob"


def _job_or_404(job_id: int) -> ImportJob:
    try:
        return selectors.job_detail(job_id)
    except ImportJob.DoesNotExist:
        raise Http404 from None


@staff_view(PERMISSION)
def job_list(request):
    page = paginate(request, selectors.job_list())
    return render(request, "imports/job_list.html", {"page": page})


@staff_view(PERMISSION)
def job_new(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.create_import_job(
                upload=data["file"],
                shop=data["shop"],
                requested_format=data["format"],
                dry_run=data["dry_run"],
                created_by=request.user,
            )
        except services.ImportRefused as refused:
            form.add_error("file", refused.messages)
        else:
            services.start_import(job)
            return redirect("imports:detail", job_id=job.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/job_new.html", {"form": form}, status=status)


@staff_view(PERMISSION)
def job_detail(request, job_id: int):
    job = _job_or_404(job_id)
    context = {
        "job": job,
        "errors": paginate(request, selectors.row_errors(job)),
        "real_import": selectors.real_import_of(job) if job.dry_run else None,
    }
    return render(request, "imports/job_detail.html", context)


@staff_view(PERMISSION)  # first: strangers see the login, not a 405
@require_POST
def job_import_for_real(request, job_id: int):
    job = _job_or_404(job_id)
    try:
        real = services.import_for_real(job, created_by=request.user)
    except services.ImportRefused as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("imports:detail", job_id=job.pk)
    services.start_import(real)
    messages.success(request, _("The import has started."))
    return redirect("imports:detail", job_id=real.pk)
