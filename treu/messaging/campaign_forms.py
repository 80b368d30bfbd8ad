"""The campaign form and the sending-rules form (plain Django forms; the services validate)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.backoffice.forms import DateInput
from treu.messaging.models import (
    AbMetric,
    AbVariant,
    Campaign,
    MailTemplate,
    MessagePurpose,
    Segment,
    Topic,
)
from treu.messaging.services import CampaignInput

WHEN_CHOICES = [("now", _("Send at once")), ("later", _("Send at a date and time"))]


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    segment = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.order_by("name"), required=False
    )
    mail_template = forms.ModelChoiceField(
        label=_("Mail template"),
        queryset=MailTemplate.objects.filter(kind=MessagePurpose.MARKETING),
        required=False,
    )
    topic = forms.ModelChoiceField(
        label=_("Topic"),
        queryset=Topic.objects.filter(active=True),
        required=False,
        empty_label=_("General newsletter"),
        help_text=_("Only customers who chose this topic get the mail."),
    )
    when = forms.ChoiceField(
        label=_("When"), choices=WHEN_CHOICES, widget=forms.RadioSelect, initial="now"
    )
    send_date = forms.DateField(label=_("Date"), required=False, widget=DateInput())
    send_time = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In each customer's own time zone; quiet hours still apply."),
    )
    control_percent = forms.IntegerField(
        label=_("Control group (%)"),
        min_value=0,
        max_value=50,
        initial=10,
        help_text=_(
            "This share of the audience gets no mail; comparing their orders with the "
            "recipients' shows what the campaign brought. 0 switches it off."
        ),
    )
    ab_variant = forms.ChoiceField(
        label=_("A/B test"), choices=AbVariant.choices, required=False, initial=""
    )
    subject_b = forms.CharField(label=_("Subject of variant B"), max_length=300, required=False)
    template_b = forms.ModelChoiceField(
        label=_("Template of variant B"),
        queryset=MailTemplate.objects.filter(kind=MessagePurpose.MARKETING),
        required=False,
    )
    ab_sample_percent = forms.IntegerField(
        label=_("Test sample (%)"),
        min_value=2,
        max_value=50,
        initial=20,
        help_text=_("Split in half between A and B; the winner goes to everyone else."),
    )
    ab_wait_hours = forms.IntegerField(
        label=_("Hours until the winner"), min_value=1, max_value=168, initial=4
    )
    ab_metric = forms.ChoiceField(
        label=_("Winner by"),
        choices=AbMetric.choices,
        initial=AbMetric.CLICKS,
        help_text=_(
            "Per mail sent. Opens count only for customers who allowed measuring them; "
            "orders and revenue need a few days — choose a longer wait for them."
        ),
    )

    def clean(self):
        data = super().clean()
        later = data.get("when") == "later"
        if later and not (data.get("send_date") and data.get("send_time")):
            # Without this a forgotten date would mean "at once".
            self.add_error("send_date", _("Enter the date and the time."))
        return data

    def to_input(self) -> CampaignInput:
        data = self.cleaned_data
        later = data["when"] == "later"
        return CampaignInput(
            name=data["name"],
            segment=data["segment"],
            mail_template=data["mail_template"],
            topic=data["topic"],
            send_date=data["send_date"] if later else None,
            send_time=data["send_time"] if later else None,
            control_percent=data["control_percent"],
            ab_variant=data["ab_variant"] or "",
            subject_b=data["subject_b"],
            template_b=data["template_b"],
            ab_sample_percent=data["ab_sample_percent"],
            ab_wait_hours=data["ab_wait_hours"],
            ab_metric=data["ab_metric"],
        )


def initial_for(campaign: Campaign | None) -> dict:
    if campaign is None:
        return {}
    return {
        "name": campaign.name,
        "segment": campaign.segment_id,
        "mail_template": campaign.mail_template_id,
        "topic": campaign.topic_id,
        "when": "later" if campaign.send_date else "now",
        "send_date": campaign.send_date,
        "send_time": campaign.send_time,
        "control_percent": campaign.control_percent,
        "ab_variant": campaign.ab_variant,
        "subject_b": campaign.subject_b,
        "template_b": campaign.template_b_id,
        "ab_sample_percent": campaign.ab_sample_percent,
        "ab_wait_hours": campaign.ab_wait_hours,
        "ab_metric": campaign.ab_metric,
    }


class SendingRulesForm(forms.Form):
    weekly_cap = forms.IntegerField(
        label=_("Marketing mails per customer and week at most"),
        min_value=0,
        max_value=50,
        help_text=_("Across all campaigns and automations; 0 means no limit."),
    )
    quiet_from = forms.TimeField(
        label=_("Quiet hours from"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_until = forms.TimeField(
        label=_("Quiet hours until"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_(
            "In each customer's time zone no marketing mail goes out in between; it waits "
            "for the end. The same time twice switches quiet hours off."
        ),
    )
