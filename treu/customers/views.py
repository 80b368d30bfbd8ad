from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from treu.backoffice.access import staff_view
from treu.backoffice.pagination import paginate
from treu.commerce import selectors as commerce_selectors
from treu.core import panels
from treu.customers import selectors, services
from treu.customers.forms import CustomerFilterForm, CustomerForm, MergePickForm, NoteForm
from treu.customers.models import Customer

TIMELINE_PAGE = 30


@staff_view("customers.view_customer")
def customer_list(request):
    form = CustomerFilterForm(request.GET)
    page = paginate(request, selectors.customer_list(form.filters()))
    return render(request, "customers/customer_list.html", {"form": form, "page": page})


def _customer_or_404(customer_id: int) -> Customer:
    try:
        return selectors.customer_detail(customer_id)
    except Customer.DoesNotExist:
        raise Http404 from None


@staff_view("customers.view_customer")
def customer_detail(request, customer_id: int):
    customer = _customer_or_404(customer_id)
    return render(request, "customers/customer_detail.html", _detail_context(request, customer))


def _detail_context(request, customer: Customer, **forms) -> dict:
    """Everything the 360° page shows; each part only for roles that may see it."""
    user = request.user
    before = request.GET.get("before", "")
    timeline = selectors.customer_timeline(
        customer, before_id=int(before) if before.isdigit() else None, limit=TIMELINE_PAGE
    )
    can_orders = user.has_perm("commerce.view_order")
    return {
        "customer": customer,
        "timeline": timeline,
        "timeline_older": timeline[-1].event.pk if len(timeline) == TIMELINE_PAGE else None,
        "timeline_paged": bool(before),
        "orders": commerce_selectors.customer_orders(customer.pk) if can_orders else None,
        "returns": commerce_selectors.customer_returns(customer.pk) if can_orders else None,
        "notes": selectors.customer_notes(customer)
        if user.has_perm("customers.view_note")
        else None,
        "note_form": forms.get("note_form") or NoteForm(),
        "merge_form": forms.get("merge_form") or MergePickForm(survivor=customer),
        "duplicates": list(selectors.possible_duplicates(customer))
        if user.has_perm("customers.merge_customer")
        else [],
        "average_order_cents": customer.total_spent_cents // customer.order_count
        if customer.order_count
        else None,
        "panels": panels.render("customer", request, customer),
    }


@staff_view("customers.add_customer")
def customer_create(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (customer := form.save()):
        messages.success(
            request, _("Customer %(number)s created.") % {"number": customer.display_number}
        )
        return redirect("customers:detail", customer_id=customer.pk)
    status = 400 if form.is_bound else 200
    return render(request, "customers/customer_form.html", {"form": form}, status=status)


@staff_view("customers.change_customer")
def customer_edit(request, customer_id: int):
    customer = _customer_or_404(customer_id)
    form = CustomerForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid() and form.save():
        messages.success(request, _("Changes saved."))
        return redirect("customers:detail", customer_id=customer.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "customer": customer}
    return render(request, "customers/customer_form.html", context, status=status)


@staff_view("customers.add_note")  # first: strangers see the login, not a 405
@require_POST
def note_add(request, customer_id: int):
    customer = _customer_or_404(customer_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(customer, author=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            form.add_error("text", error.messages)
        else:
            messages.success(request, _("Note added."))
            return redirect(reverse("customers:detail", args=[customer.pk]) + "#notes")
    context = _detail_context(request, customer, note_form=form)
    return render(request, "customers/customer_detail.html", context, status=400)


@staff_view("customers.merge_customer")
def customer_merge(request, customer_id: int):
    """GET ?duplicate=<number>: confirm screen. POST: merge the duplicate into this customer."""
    survivor = _customer_or_404(customer_id)
    data = request.POST if request.method == "POST" else request.GET
    form = MergePickForm(data, survivor=survivor)
    if not form.is_valid():
        context = _detail_context(request, survivor, merge_form=form)
        return render(request, "customers/customer_detail.html", context, status=400)
    duplicate = form.cleaned_data["duplicate"]
    if request.method != "POST":
        return render(
            request, "customers/customer_merge.html", {"survivor": survivor, "duplicate": duplicate}
        )
    try:
        services.merge_customers(survivor=survivor, duplicate=duplicate, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(duplicate)s was merged into %(survivor)s.")
            % {"duplicate": duplicate.display_number, "survivor": survivor.display_number},
        )
    return redirect("customers:detail", customer_id=survivor.pk)
