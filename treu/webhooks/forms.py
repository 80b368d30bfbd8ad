"""Forms of the webhook pages. Writes go through services; these only read and check input."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from treu.backoffice.forms import add_service_errors
from treu.webhooks import selectors, services
from treu.webhooks.models import Endpoint


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("The receiving address, e.g. https://shop.example/treu-webhook."),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    kinds = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple, required=True
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, endpoint: Endpoint | None = None, **kwargs):
        self.endpoint = endpoint
        if endpoint is not None:
            kwargs["initial"] = {
                "url": endpoint.url,
                "description": endpoint.description,
                "kinds": endpoint.kinds,
                "active": endpoint.active,
            }
        super().__init__(*args, **kwargs)
        # Read at every form, so kinds registered by apps added later show up by themselves.
        self.fields["kinds"].choices = [
            (k.name, f"{k.label} ({k.name})") for k in selectors.outbound_kinds()
        ]

    def save(self) -> Endpoint | None:
        """Create or update through the service; its refusals land on the form."""
        data = self.cleaned_data
        fields = {
            "url": data["url"],
            "kinds": data["kinds"],
            "description": data["description"],
            "active": data["active"],
        }
        try:
            if self.endpoint is None:
                return services.endpoint_create(**fields)
            return services.endpoint_update(endpoint=self.endpoint, **fields)
        except ValidationError as error:
            add_service_errors(self, error)
            return None
