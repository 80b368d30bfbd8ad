"""Forms of the commerce pages: list filters and recording a return."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.backoffice.forms import DateInput, end_of_day, start_of_day
from treu.commerce import selectors
from treu.commerce.models import OrderStatus, ReturnReason
from treu.commerce.services import ReturnLineInput
from treu.core.money import MoneyError, parse_euro


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Order number"), required=False, max_length=64)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + OrderStatus.choices
    )
    shop = forms.TypedChoiceField(label=_("Shop"), required=False, coerce=int, empty_value=None)
    placed_from = forms.DateField(label=_("Placed from"), required=False, widget=DateInput)
    placed_until = forms.DateField(label=_("Placed until"), required=False, widget=DateInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # the filter bar's labels sit above the inputs
        super().__init__(*args, **kwargs)
        self.fields["shop"].choices = [("", _("All shops"))] + [
            (s.pk, s.name) for s in selectors.shops()
        ]
        self.fields["q"].widget.attrs.update(type="search", placeholder="#1001")

    def filters(self) -> selectors.OrderFilters:
        # An invalid filter is ignored rather than hiding every order.
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.OrderFilters(
            query=data.get("q", ""),
            status=data.get("status", ""),
            shop_id=data.get("shop"),
            placed_after=start_of_day(data.get("placed_from")),
            placed_before=end_of_day(data.get("placed_until")),
        )


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or SKU"), required=False, max_length=100)
    category = forms.TypedChoiceField(
        label=_("Category"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # the filter bar's labels sit above the inputs
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories"))] + [
            (c.pk, c.name) for c in selectors.product_categories()
        ]
        self.fields["q"].widget.attrs.update(type="search")

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {"category_id": data.get("category"), "query": data.get("q", "")}


class ReturnForm(forms.Form):
    """One quantity field per order line that still has goods to return, plus reason and comment.

    The service checks everything again under a row lock; this form only catches typing errors.
    """

    reason = forms.ChoiceField(label=_("Reason"), choices=ReturnReason.choices)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    shipping_refund = forms.CharField(
        label=_("Refund shipping"),
        required=False,
        max_length=20,
        help_text=_("Amount in euros, e.g. 4,90. Leave empty for none."),
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.line_fields: list[tuple[object, str]] = []
        for line in order.lines.all():
            left = line.quantity - line.returned_quantity
            name = f"line_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=line.title, min_value=0, max_value=max(left, 0), initial=0, required=False
            )
            self.fields[name].widget.attrs.update(min=0, max=max(left, 0), step=1)
            if left <= 0:
                self.fields[name].disabled = True
            self.line_fields.append((line, name))

    def clean_shipping_refund(self) -> int:
        text = self.cleaned_data.get("shipping_refund") or ""
        if not text.strip():
            return 0
        try:
            cents = parse_euro(text)
        except MoneyError:
            raise forms.ValidationError(
                _("Please enter an amount in euros, e.g. 4,90."), code="amount"
            ) from None
        if cents < 0:
            raise forms.ValidationError(_("Amounts must not be negative."), code="negative")
        return cents

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.return_lines() and not cleaned.get("shipping_refund"):
            raise forms.ValidationError(
                _("Enter a quantity for at least one item, or a shipping refund."), code="empty"
            )
        return cleaned

    def return_lines(self) -> list[ReturnLineInput]:
        return [
            ReturnLineInput(order_line_id=line.pk, quantity=self.cleaned_data[name])
            for line, name in self.line_fields
            if self.cleaned_data.get(name)
        ]

    def service_field_map(self) -> dict[str, str]:
        """The service names line errors 'lines.<n>' by position among the submitted lines."""
        submitted = [name for line, name in self.line_fields if self.cleaned_data.get(name)]
        mapping = {f"lines.{i}": name for i, name in enumerate(submitted, start=1)}
        mapping.update({"shipping_refund_cents": "shipping_refund", "lines": "__all__"})
        return mapping

    def bound_lines(self):
        return [(line, self[name]) for line, name in self.line_fields]
