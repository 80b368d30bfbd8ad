"""Forms of the consent part: the public sign-up, preferences and reason, and the back office's
texts, topics and staff-recorded unsubscribes. Every box starts unchecked."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.messaging import selectors
from treu.messaging.models import Frequency, LegalBasis


class TopicChoice(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj) -> str:
        return f"{obj.name} – {obj.description}" if obj.description else obj.name


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={
            "required": _("Please enter your email address."),
            "invalid": _("Please enter a valid email address, e.g. name@example.de."),
        },
    )
    first_name = forms.CharField(label=_("First name (optional)"), max_length=150, required=False)
    topics = TopicChoice(
        label=_("What interests you? (optional; nothing chosen means everything)"),
        queryset=selectors.offered_topics(),
        required=False,
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": _("Please tick the box to agree to receiving the newsletter.")},
    )
    text_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # A field people never see (hidden by the page's CSS and marked for screen readers):
    # what fills it is a bot, and it gets the thank-you page without anything happening.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, wording=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.wording = wording
        self.fields["consent"].label = wording.wording if wording else ""
        if wording is not None:
            self.fields["text_version"].initial = wording.version
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class PreferencesForm(forms.Form):
    topics = TopicChoice(
        label=_("Topics (nothing chosen means everything)"),
        queryset=selectors.offered_topics(),
        required=False,
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=Frequency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose how often you want to hear from us.")},
    )
    tracking = forms.BooleanField(
        label=_(
            "You may see whether I open your mails (a tiny image in the mail, loaded from "
            "this website). Clicks on links are counted either way."
        ),
        required=False,
    )


REASONS = (
    ("too_many", _("Too many mails")),
    ("not_relevant", _("The content is not relevant to me")),
    ("never_signed_up", _("I never signed up")),
    ("other", _("Another reason")),
)


class ReasonForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you leaving? (optional)"),
        choices=REASONS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose a reason.")},
    )
    other = forms.CharField(label=_("In your own words"), max_length=400, required=False)

    def reason_text(self) -> str:
        data = self.cleaned_data
        label = str(dict(REASONS)[data["reason"]])
        return f"{label}: {data['other'].strip()}" if data["other"].strip() else label


class StaffWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("How and why did the customer unsubscribe?"),
        max_length=400,
        error_messages={"required": _("Please note how the customer asked, e.g. by phone.")},
    )


class ConsentTextForm(forms.Form):
    basis = forms.ChoiceField(label=_("For"), choices=LegalBasis.choices)
    wording = forms.CharField(
        label=_("Wording"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Please write the full text the person agrees to.")},
    )


class TopicForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        error_messages={"required": _("Please give the topic a name.")},
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=999, initial=0)
    active = forms.BooleanField(label=_("Offered on the forms"), required=False, initial=True)
    similar_products = forms.BooleanField(
        label=_("About our own similar products (§7(3) UWG)"),
        required=False,
        help_text=_(
            "Only such topics may be mailed to buyers without a newsletter sign-up, "
            "under the existing-customer exception."
        ),
    )
