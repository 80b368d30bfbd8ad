"""Writes of campaigns: saving, scheduling, cancelling, and the worker's send.

A campaign's audience is its segment's members (refreshed right before each send). The
control group is drawn once, from the whole audience, by `sending.in_control_group`'s
fixed coin for the campaign's prefix `campaign:<id>`:

- without an A/B test, one `send_mail_template` under that prefix holds back the coin's
  customers and mails the others;
- with an A/B test, the coin's customers are first held back under the same prefix (a
  send to them alone holds back every one of them and mails no one), the rest split by a
  second fixed coin into sample A, sample B and the remainder; after the wait the worker
  compares A and B and mails the winner under `campaign:<id>` to everyone else — whose
  coin customers are already held back, so no one is held out of one variant and mailed
  another.

A worker claims a due campaign with a conditional UPDATE (a lease), so two workers never
run one campaign at once; one that dies leaves the lease to run out, and the next run
sends again — `send_mail_template` writes nothing twice, and both coins give the same
answer on every run.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.messaging.mail_templates import blocks as b
from treu.messaging.mail_templates.services import MailTemplateError, validate_mail_template
from treu.messaging.models import (
    AbMetric,
    AbVariant,
    Campaign,
    CampaignStatus,
    MailTemplate,
    MessagePurpose,
    Segment,
    Topic,
)
from treu.messaging.segments import services as segment_services
from treu.messaging.selectors import campaigns as selectors
from treu.messaging.selectors import sending as sending_selectors
from treu.messaging.selectors.sending import COUNTRY_ZONES
from treu.messaging.services.sending import (
    BATCH,
    MailSend,
    SendReport,
    in_control_group,
    message_key,
    send_mail_template,
)

LEASE = timedelta(minutes=10)


class CampaignError(ValidationError):
    """A refused campaign change; German messages per field."""


@dataclass(frozen=True)
class CampaignInput:
    name: str
    segment: Segment | None
    mail_template: MailTemplate | None
    topic: Topic | None = None
    send_date: date | None = None  # with send_time: the wall time in each customer's zone
    send_time: time | None = None
    control_percent: int = 10
    ab_variant: str = AbVariant.NONE
    subject_b: str = ""
    template_b: MailTemplate | None = None
    ab_sample_percent: int = 20
    ab_wait_hours: int = 4
    ab_metric: str = AbMetric.CLICKS


# -- Validation -------------------------------------------------------------------------------


def _template_problem(mail_template: MailTemplate) -> str | None:
    if mail_template.kind != MessagePurpose.MARKETING:
        return _("Campaigns send marketing templates; this one is transactional.")
    try:
        validate_mail_template(
            name=mail_template.name,
            kind=mail_template.kind,
            subject=mail_template.subject,
            preheader=mail_template.preheader,
            blocks=mail_template.blocks,
        )
    except MailTemplateError as error:
        return _("The template has errors: %(errors)s") % {"errors": " ".join(error.messages)}
    return None


def _local(data: CampaignInput) -> datetime | None:
    if data.send_date is None:
        return None
    return datetime.combine(data.send_date, data.send_time)  # noqa: DTZ001 - a wall time


def _zones() -> list[ZoneInfo]:
    return [ZoneInfo(z) for z in {*COUNTRY_ZONES.values(), settings.TIME_ZONE}]


def first_moment(local: datetime) -> datetime:
    """The earliest instant this wall time happens in any customer's zone."""
    return min(local.replace(tzinfo=zone) for zone in _zones())


def last_moment(local: datetime) -> datetime:
    return max(local.replace(tzinfo=zone) for zone in _zones())


def validate_campaign(data: CampaignInput, *, now: datetime) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    name = " ".join(data.name.split())
    if not name:
        add("name", _("Give the campaign a name."))
    elif len(name) > 120:
        add("name", _("At most 120 characters."))
    if data.segment is None:
        add("segment", _("Choose the segment the campaign goes to."))
    if data.mail_template is None:
        add("mail_template", _("Choose the mail template to send."))
    elif problem := _template_problem(data.mail_template):
        add("mail_template", problem)
    if data.topic is not None and not data.topic.active:
        add("topic", _("This topic is no longer offered."))
    if not 0 <= data.control_percent <= 50:
        add("control_percent", _("The control group is 0 to 50 percent."))
    if (data.send_date is None) != (data.send_time is None):
        add("send_date", _("Enter both the date and the time, or neither to send at once."))
    elif data.send_date is not None:
        berlin = _local(data).replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
        if berlin <= now:
            add("send_date", _("This time has already passed."))
    if data.ab_variant not in AbVariant.values:
        add("ab_variant", _("Choose what the A/B test varies."))
    elif data.ab_variant:
        _validate_ab(data, add)
    return errors


def _validate_ab(data: CampaignInput, add) -> None:
    if data.ab_variant == AbVariant.SUBJECT:
        subject = data.subject_b.strip()
        if not subject:
            add("subject_b", _("Enter the subject of variant B."))
        elif problem := b.check_line(_("Subject"), subject):
            add("subject_b", problem)
        elif data.mail_template is not None and subject == data.mail_template.subject.strip():
            add("subject_b", _("Variant B needs a subject other than variant A's."))
    else:
        if data.template_b is None:
            add("template_b", _("Choose the template of variant B."))
        elif data.mail_template is not None and data.template_b.pk == data.mail_template.pk:
            add("template_b", _("Variant B needs a template other than variant A's."))
        elif problem := _template_problem(data.template_b):
            add("template_b", problem)
    if not 2 <= data.ab_sample_percent <= 50:
        add("ab_sample_percent", _("The test sample is 2 to 50 percent of the audience."))
    if not 1 <= data.ab_wait_hours <= 168:
        add("ab_wait_hours", _("Wait 1 to 168 hours (a week) for the winner."))
    if data.ab_metric not in AbMetric.values:
        add("ab_metric", _("Choose how the winner is decided."))


# -- Saving, scheduling, cancelling -----------------------------------------------------------


@transaction.atomic
def save_campaign(
    *, campaign: Campaign | None = None, data: CampaignInput, by=None, now: datetime | None = None
) -> Campaign:
    """Create or change a campaign (a draft afterwards: a scheduled one is planned again)."""
    now = now or timezone.now()
    if campaign is not None:
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not campaign.editable:
            raise CampaignError(_("Only draft and scheduled campaigns can be changed."))
    errors = validate_campaign(data, now=now)
    if errors:
        raise CampaignError(errors)
    campaign = campaign or Campaign(created_by=by)
    ab = bool(data.ab_variant)
    campaign.name = " ".join(data.name.split())
    campaign.segment, campaign.mail_template, campaign.topic = (
        data.segment,
        data.mail_template,
        data.topic,
    )
    campaign.send_date, campaign.send_time = data.send_date, data.send_time
    campaign.control_percent = data.control_percent
    campaign.ab_variant = data.ab_variant
    campaign.subject_b = data.subject_b.strip() if data.ab_variant == AbVariant.SUBJECT else ""
    campaign.template_b = data.template_b if data.ab_variant == AbVariant.TEMPLATE else None
    if ab:
        campaign.ab_sample_percent = data.ab_sample_percent
        campaign.ab_wait_hours = data.ab_wait_hours
        campaign.ab_metric = data.ab_metric
    campaign.status, campaign.due_at = CampaignStatus.DRAFT, None
    campaign.save()
    return campaign


def _input_of(campaign: Campaign) -> CampaignInput:
    return CampaignInput(
        name=campaign.name,
        segment=campaign.segment,
        mail_template=campaign.mail_template,
        topic=campaign.topic,
        send_date=campaign.send_date,
        send_time=campaign.send_time,
        control_percent=campaign.control_percent,
        ab_variant=campaign.ab_variant,
        subject_b=campaign.subject_b,
        template_b=campaign.template_b,
        ab_sample_percent=campaign.ab_sample_percent,
        ab_wait_hours=campaign.ab_wait_hours,
        ab_metric=campaign.ab_metric,
    )


@transaction.atomic
def schedule_campaign(campaign: Campaign, *, now: datetime | None = None) -> Campaign:
    """Hand a draft to the worker: at once, or when its wall time comes in the first zone."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(_("Only a draft can be sent or scheduled."))
    errors = validate_campaign(_input_of(campaign), now=now)
    if errors:
        raise CampaignError(errors)
    local = _local(_input_of(campaign))
    campaign.due_at = max(now, first_moment(local)) if local else now
    campaign.status = CampaignStatus.SCHEDULED
    campaign.save(update_fields=["due_at", "status", "updated_at"])
    if campaign.due_at <= now:
        from treu.messaging import campaign_tasks

        campaign_id = campaign.pk
        transaction.on_commit(lambda: campaign_tasks.run_campaign_task(campaign_id))
    return campaign


@transaction.atomic
def cancel_campaign(campaign: Campaign, *, now: datetime | None = None) -> Campaign:
    """Stop a campaign before (the rest of) it is sent; refused while a worker sends it."""
    now = now or timezone.now()
    done = (
        Campaign.objects.filter(pk=campaign.pk, status__in=selectors.CANCELLABLE)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now()))
        .update(status=CampaignStatus.CANCELLED, cancelled_at=now, due_at=None, updated_at=now)
    )
    if not done:
        raise CampaignError(
            _("The campaign is being sent or already sent; it cannot be cancelled.")
        )
    return Campaign.objects.get(pk=campaign.pk)


# -- The worker's send ------------------------------------------------------------------------


def _coin(prefix: str, customer_id: int) -> int:
    """0–99, fixed per campaign and customer, independent of the control group's coin."""
    digest = hashlib.sha256(f"{prefix}|ab|{customer_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


def split_audience(campaign: Campaign, ids: list[int]) -> dict[str, list[int]]:
    """{"control": …, "a": …, "b": …, "rest": …}: the control group's candidates first
    (the whole audience's coin), then the sample halves of everyone else."""
    groups: dict[str, list[int]] = {"control": [], "a": [], "b": [], "rest": []}
    half = campaign.ab_sample_percent / 2
    for pk in ids:
        if in_control_group(campaign.prefix, pk, campaign.control_percent):
            groups["control"].append(pk)
            continue
        coin = _coin(campaign.prefix, pk) if campaign.is_ab_test else 100
        groups["a" if coin < half else "b" if coin < campaign.ab_sample_percent else "rest"].append(
            pk
        )
    return groups


def _renew(campaign: Campaign) -> None:
    # Leases run on the wall clock whatever `now` a caller passes (tests pass fixed ones).
    Campaign.objects.filter(pk=campaign.pk).update(lease_until=timezone.now() + LEASE)


def _send(campaign: Campaign, prefix: str, template: MailTemplate, ids: list[int], now):
    # Only the campaign's own prefix holds a control group; the test's halves hold none.
    control = campaign.control_percent if prefix == campaign.prefix else 0
    report = SendReport()
    local = _local(_input_of(campaign))
    for start in range(0, len(ids), BATCH):
        report.add(
            send_mail_template(
                MailSend(
                    prefix=prefix,
                    mail_template=template,
                    customer_ids=ids[start : start + BATCH],
                    local=local,
                    control_percent=control,
                    topic=campaign.topic,
                ),
                now=now,
            )
        )
        _renew(campaign)
    return report


def variant_template(campaign: Campaign, key: str) -> MailTemplate:
    if key == "a" or not campaign.is_ab_test:
        return campaign.mail_template
    if campaign.ab_variant == AbVariant.TEMPLATE:
        return campaign.template_b
    variant = copy.copy(campaign.mail_template)  # never saved: the subject is B's
    variant.subject = campaign.subject_b
    return variant


def _audience(campaign: Campaign, now: datetime) -> list[int]:
    if campaign.segment.active:
        segment_services.refresh_segment(campaign.segment.pk, now=now)
    return selectors.member_ids(campaign.segment)


def _claim(campaign_id: int, now: datetime) -> Campaign | None:
    claimed = (
        Campaign.objects.filter(pk=campaign_id, status__in=selectors.RUNNABLE, due_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now()))
        .update(lease_until=timezone.now() + LEASE)
    )
    return selectors.campaign_by_id(campaign_id) if claimed else None


def _finish(campaign: Campaign, **fields) -> None:
    fields |= {"lease_until": None, "updated_at": timezone.now()}
    Campaign.objects.filter(pk=campaign.pk).update(**fields)


def run_campaign(campaign_id: int, *, now: datetime | None = None) -> str | None:
    """Do what is due for one campaign; the status it ends in, or None if nothing was due
    (not due yet, another worker has it, cancelled, sent)."""
    now = now or timezone.now()
    campaign = _claim(campaign_id, now)
    if campaign is None:
        return None
    if campaign.segment is None or campaign.mail_template is None:
        _finish(campaign, status=CampaignStatus.CANCELLED, cancelled_at=now, due_at=None)
        return CampaignStatus.CANCELLED  # the segment or template was deleted meanwhile
    if campaign.status == CampaignStatus.TESTING:
        campaign.ab_winner = choose_winner(campaign, now=now)
        campaign.decided_at = now
    if campaign.status != CampaignStatus.SENDING:
        campaign.started_at = campaign.started_at or now
        campaign.status = CampaignStatus.SENDING
        campaign.save(
            update_fields=["status", "started_at", "ab_winner", "decided_at", "updated_at"]
        )
    ids = _audience(campaign, now)
    if campaign.is_ab_test and not campaign.ab_winner:
        return _send_test(campaign, ids, now)
    return _send_rest(campaign, ids, now)


def _send_test(campaign: Campaign, ids: list[int], now: datetime) -> str:
    groups = split_audience(campaign, ids)
    # Sent to the control group's candidates alone, the send holds back every one of them;
    # its report is left out here: the rest's send counts them again (as "already").
    _send(campaign, campaign.prefix, campaign.mail_template, groups["control"], now)
    report = SendReport()
    for key in ("a", "b"):
        variant = variant_template(campaign, key)
        report.add(_send(campaign, f"{campaign.prefix}:{key}", variant, groups[key], now))
    local = _local(_input_of(campaign))
    sent = max(now, last_moment(local)) if local else now
    _finish(
        campaign,
        status=CampaignStatus.TESTING,
        tested_at=now,
        due_at=sent + timedelta(hours=campaign.ab_wait_hours),
        audience_count=len(ids),
        without_consent_count=report.without_consent,
        at_cap_count=report.at_cap,
    )
    return CampaignStatus.TESTING


def _send_rest(campaign: Campaign, ids: list[int], now: datetime) -> str:
    audience = len(ids)
    fields = {}
    if campaign.is_ab_test:
        groups = split_audience(campaign, ids)
        # The coin's customers are held back already (new members now); sample members
        # who got no test mail (they joined, or consented, since) get the winner too.
        sampled = sending_selectors.keys_in_outbox(
            message_key(f"{campaign.prefix}:{key}", pk) for key in ("a", "b") for pk in groups[key]
        )
        late = [
            pk
            for key in ("a", "b")
            for pk in groups[key]
            if message_key(f"{campaign.prefix}:{key}", pk) not in sampled
        ]
        ids = groups["control"] + groups["rest"] + late
        audience = max(audience, campaign.audience_count)
    template = variant_template(campaign, campaign.ab_winner or "a")
    report = _send(campaign, campaign.prefix, template, ids, now)
    if campaign.is_ab_test:  # the test's figures (A and B) plus the rest's
        fields = {
            "at_cap_count": campaign.at_cap_count + report.at_cap,
            "without_consent_count": campaign.without_consent_count + report.without_consent,
        }
    else:
        fields = {"at_cap_count": report.at_cap, "without_consent_count": report.without_consent}
    _finish(
        campaign,
        status=CampaignStatus.SENT,
        finished_at=timezone.now(),
        due_at=None,
        audience_count=audience,
        **fields,
    )
    return CampaignStatus.SENT


def choose_winner(campaign: Campaign, *, now: datetime) -> str:
    """ "a" or "b" by the campaign's metric per mail; a tie keeps A (the original)."""
    figures = selectors.variant_figures(campaign, now=now)
    return (
        "b"
        if figures["b"].rate(campaign.ab_metric) > figures["a"].rate(campaign.ab_metric)
        else "a"
    )


def run_due_campaigns(*, now: datetime | None = None) -> int:
    """Every campaign due now, one after the other; how many were acted on."""
    now = now or timezone.now()
    return sum(
        1 for pk in selectors.due_campaign_ids(now=now) if run_campaign(pk, now=now) is not None
    )
