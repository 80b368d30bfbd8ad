"""Forms of the customer pages. Writes go through services; these only read and check input."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from treu.backoffice.forms import DateInput, add_service_errors, end_of_day, start_of_day
from treu.customers import selectors, services
from treu.customers.models import Customer, SourceChannel, Tag


def _model_field(name: str, **kwargs) -> forms.Field:
    """The form field the model would use: label, length and choices stay in one place."""
    return Customer._meta.get_field(name).formfield(**kwargs)


class CustomerFilterForm(forms.Form):
    BUYER_CHOICES = [
        ("", _("All")),
        ("none", _("Never ordered")),
        ("once", _("Ordered once")),
        ("repeat", _("Repeat buyers")),
    ]
    ORDERING_CHOICES = [
        ("-created", _("Newest customers")),
        ("name", _("Name")),
        ("-last_order", _("Latest order")),
        ("-spent", _("Highest revenue")),
        ("-orders", _("Most orders")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    source_channel = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("All"))] + SourceChannel.choices
    )
    buyer = forms.ChoiceField(label=_("Buyer type"), required=False, choices=BUYER_CHOICES)
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    last_order_from = forms.DateField(label=_("Last order from"), required=False, widget=DateInput)
    last_order_until = forms.DateField(
        label=_("Last order until"), required=False, widget=DateInput
    )
    ordering = forms.ChoiceField(label=_("Sort by"), required=False, choices=ORDERING_CHOICES)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # the filter bar's labels sit above the inputs
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", _("All"))] + [
            (name, name) for name in Tag.objects.values_list("name", flat=True)
        ]
        self.fields["q"].widget.attrs.update(
            type="search",
            placeholder=_("Name, email or customer number"),
            autofocus=True,
        )

    def filters(self) -> selectors.CustomerFilters:
        # An invalid filter (a mistyped date) is dropped, not allowed to hide every customer.
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.CustomerFilters(
            query=data.get("q", ""),
            source_channel=data.get("source_channel", ""),
            tag=data.get("tag", ""),
            buyer=data.get("buyer", ""),
            last_order_after=start_of_day(data.get("last_order_from")),
            last_order_before=end_of_day(data.get("last_order_until")),
            ordering=data.get("ordering") or "-created",
        )


class CustomerForm(forms.Form):
    """Create or edit a customer's own details (order figures are kept by commerce)."""

    first_name = _model_field("first_name")
    last_name = _model_field("last_name")
    email = _model_field("email")
    phone = _model_field("phone")
    birthday = _model_field("birthday", widget=DateInput)
    language = _model_field("language")
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas, e.g. espresso, wholesale."),
    )

    def __init__(self, *args, customer: Customer | None = None, **kwargs):
        self.customer = customer
        if customer is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(customer, name) for name in services.EDITABLE_FIELDS},
                "email": customer.email or "",
                "tags": ", ".join(t.name for t in customer.tags.all()),
            }
        super().__init__(*args, **kwargs)

    def clean_tags(self) -> list[str]:
        names = [n.strip() for n in self.cleaned_data.get("tags", "").split(",")]
        names = list(dict.fromkeys(n for n in names if n))
        too_long = [n for n in names if len(n) > Tag._meta.get_field("name").max_length]
        if too_long:
            raise forms.ValidationError(_("A tag may have at most 64 characters."), code="long")
        return names

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.EDITABLE_FIELDS}

    def save(self) -> Customer | None:
        """Write through the services in one transaction; on refusal the errors land on the form
        and nothing is written. Returns the customer, or None when refused."""
        try:
            with transaction.atomic():
                if self.customer is None:
                    customer = services.create_customer(**self.details(), event_source="backoffice")
                else:
                    # A fresh copy: a refused change must not linger on the caller's object.
                    customer = Customer.objects.get(pk=self.customer.pk)
                    services.update_customer(customer, event_source="backoffice", **self.details())
                services.set_tags(customer, names=self.cleaned_data["tags"])
        except ValidationError as error:  # CustomerError, or the model's own checks
            add_service_errors(self, error)
            return None
        return customer


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("New note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Visible to your team only, never to the customer."),
    )


class MergePickForm(forms.Form):
    """Which customer is the duplicate? Picked by customer number, e.g. K010023 or 10023."""

    duplicate = forms.CharField(label=_("Customer number of the duplicate"), max_length=20)

    def __init__(self, *args, survivor: Customer, **kwargs):
        self.survivor = survivor
        super().__init__(*args, **kwargs)
        self.fields["duplicate"].widget.attrs.update(placeholder="K010023")

    def clean_duplicate(self) -> Customer:
        text = self.cleaned_data["duplicate"].strip().lower().lstrip("k#").lstrip("0")
        if not text.isdigit():
            raise forms.ValidationError(
                _("Please enter a customer number, e.g. K010023."), code="invalid"
            )
        duplicate = selectors.customer_by_number(int(text))
        if duplicate is None:
            raise forms.ValidationError(
                _("There is no customer with this number."), code="not_found"
            )
        if duplicate.pk == self.survivor.pk:
            raise forms.ValidationError(_("A customer cannot be merged with itself."), code="same")
        return duplicate
