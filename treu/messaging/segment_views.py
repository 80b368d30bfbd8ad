"""Back-office pages for segments: list, editor with live count, members, CSV, delete."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors
from treu.core.money import format_euro
from treu.messaging import segment_forms as sf
from treu.messaging.segments import rules, selectors, services, tasks

PAGE_SIZE = 50


def _segment_or_404(segment_id: int):
    segment = selectors.segment_by_id(segment_id)
    if segment is None:
        raise Http404
    return segment


@staff_view("messaging.view_segment")
def segment_list(request):
    return render(request, "messaging/segments/list.html", {"segments": selectors.segment_list()})


@staff_view("messaging.add_segment")
def segment_new(request):
    return _editor(request, None)


@staff_view("messaging.change_segment")
def segment_edit(request, segment_id: int):
    return _editor(request, _segment_or_404(segment_id))


def _editor(request, segment):
    if request.method != "POST":
        return _render_editor(request, segment, sf.editor_for(segment))
    editor = sf.editor_from_post(request.POST)
    if editor.saving and editor.tree is not None and editor.form.is_valid():
        try:
            segment = services.save_segment(
                segment=segment, rules_tree=editor.tree, by=request.user, **editor.segment_fields()
            )
        except services.SegmentError as error:
            add_service_errors(editor.form, error)
        else:
            messages.success(request, _("Segment saved. Its members are being refreshed."))
            return redirect("messaging:segment_detail", segment_id=segment.pk)
    return _render_editor(request, segment, editor, status=400 if editor.saving else 200)


def _render_editor(request, segment, editor: sf.Editor, *, status: int = 200):
    context = {
        "segment": segment,
        "form": editor.form,
        "groups": editor.groups,
        "field_options": sf.field_options(),
        "preview": selectors.preview(editor.tree) if editor.tree is not None else None,
    }
    return render(request, "messaging/segments/editor.html", context, status=status)


@staff_view("messaging.view_segment")
@require_POST
def segment_count(request):
    """The live count for the editor's script: the posted rows, as the form would save them."""
    match = request.POST.get("match") if request.POST.get("match") in ("all", "any") else "all"
    try:
        tree = sf.tree_from_rows(match, sf.rows_from_post(request.POST))
    except rules.RuleError as error:
        return JsonResponse({"count": None, "errors": error.messages}, status=422)
    preview = selectors.preview(tree)
    return JsonResponse(
        {
            "count": preview.count,
            "count_text": _count_text(preview.count),
            "errors": [],
            "sample": [
                {
                    "number": c.display_number,
                    "name": c.full_name or c.email or c.display_number,
                    "url": reverse("customers:detail", args=[c.pk]),
                }
                for c in preview.sample
            ],
        }
    )


def _count_text(count: int) -> str:
    return ngettext("%(count)s customer matches", "%(count)s customers match", count) % {
        "count": f"{count:,}".replace(",", ".")
    }


@staff_view("messaging.view_segment")
def segment_detail(request, segment_id: int):
    segment = _segment_or_404(segment_id)
    page = Paginator(selectors.members(segment), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"segment": segment, "page": page, "description": rules.describe(segment.rules)}
    return render(request, "messaging/segments/detail.html", context)


@staff_view("messaging.change_segment")
@require_POST
def segment_refresh(request, segment_id: int):
    segment = _segment_or_404(segment_id)
    if not segment.active:
        messages.error(request, _("The segment is inactive; activate it to refresh it."))
    else:
        tasks.refresh_segment_task(segment.pk)
        messages.success(request, _("The members are being refreshed."))
    return redirect("messaging:segment_detail", segment_id=segment.pk)


@staff_view("messaging.delete_segment")
def segment_delete(request, segment_id: int):
    segment = _segment_or_404(segment_id)
    if request.method == "POST":
        services.delete_segment(segment)
        messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
        return redirect("messaging:segment_list")
    return render(request, "messaging/segments/delete.html", {"segment": segment})


class _Echo:
    def write(self, value: str) -> str:
        return value


def rows_as_csv(header: list[str], rows) -> Iterator[str]:
    """Semicolons and a BOM: German Excel opens it as it is."""
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def _cell(text: str) -> str:
    # A name starting with =, +, - or @ would be run as a formula by spreadsheet programmes.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


@staff_view("messaging.view_segment")
def segment_export(request, segment_id: int):
    segment = _segment_or_404(segment_id)
    header = [
        _("Customer number"), _("First name"), _("Last name"), _("Email"), _("Orders"),
        _("Total spent (€)"), _("Last order"), _("In the segment since"),
    ]  # fmt: skip

    def rows():
        for m in selectors.members(segment).iterator(chunk_size=2000):
            c = m.customer
            last = (
                timezone.localtime(c.last_order_at).strftime("%d.%m.%Y") if c.last_order_at else ""
            )
            yield [
                c.display_number, _cell(c.first_name), _cell(c.last_name), _cell(c.email or ""),
                str(c.order_count), format_euro(c.total_spent_cents, with_symbol=False), last,
                timezone.localtime(m.since).strftime("%d.%m.%Y %H:%M"),
            ]  # fmt: skip

    response = StreamingHttpResponse(rows_as_csv(header, rows()), content_type="text/csv")
    filename = f"segment-{segment.pk}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
