"""Writes of the mail templates: save (validated, compiled), test send, the German defaults."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.messaging.mail_templates import blocks as b
from treu.messaging.mail_templates.defaults import DEFAULT_TEMPLATES
from treu.messaging.mail_templates.render import render_for_customer, render_sample
from treu.messaging.models import MailTemplate, MessagePurpose
from treu.messaging.services.outbox import NewMessage, enqueue_messages


class MailTemplateError(ValidationError):
    """A template that cannot be saved; German messages per field."""


def validate_mail_template(
    *, name: str, kind: str, subject: str, preheader: str, blocks: object
) -> list[dict]:
    """The cleaned blocks, or MailTemplateError with every problem at once."""
    errors: dict[str, list[str]] = {}
    name, subject, preheader = name.strip(), subject.strip(), preheader.strip()
    if not name:
        errors.setdefault("name", []).append(_("The template needs a name."))
    if kind not in MessagePurpose.values:
        errors.setdefault("kind", []).append(_("Choose marketing or transactional."))
    if not subject:
        errors.setdefault("subject", []).append(_("The subject is empty."))
    elif problem := b.check_line(_("Subject"), subject):
        errors.setdefault("subject", []).append(problem)
    if preheader and (problem := b.check_line(_("Preheader"), preheader)):
        errors.setdefault("preheader", []).append(problem)
    cleaned = b.clean_blocks(blocks)
    if cleaned.errors:
        errors["blocks"] = cleaned.errors
    elif not cleaned.blocks:
        errors["blocks"] = [_("Add at least one block.")]
    if errors:
        raise MailTemplateError(errors)
    return cleaned.blocks


@transaction.atomic
def save_mail_template(
    *,
    mail_template: MailTemplate | None = None,
    name: str,
    kind: str,
    subject: str,
    preheader: str = "",
    blocks: object,
    now: datetime | None = None,
) -> MailTemplate:
    """Create or change a template; one with any error is never stored (so sends never break)."""
    cleaned = validate_mail_template(
        name=name, kind=kind, subject=subject, preheader=preheader, blocks=blocks
    )
    mail_template = mail_template or MailTemplate()
    mail_template.name = name.strip()
    mail_template.kind = kind
    mail_template.subject = subject.strip()
    mail_template.preheader = preheader.strip()
    mail_template.blocks = cleaned
    mail_template.edited_at = now or timezone.now()
    mail_template.save()
    return mail_template


@transaction.atomic
def delete_mail_template(mail_template: MailTemplate) -> None:
    """Delete a template; refused while an automation's step sends it (the step would
    have nothing to send)."""
    from treu.messaging.models import FlowStep, StepKind

    users = FlowStep.objects.filter(kind=StepKind.SEND, settings__template_id=mail_template.pk)
    names = sorted(set(users.values_list("flow__name", flat=True)))
    if names:
        raise MailTemplateError(
            {
                "template": [
                    _(
                        "This template is sent by the automation(s) %(names)s; choose another "
                        "template there first."
                    )
                    % {"names": ", ".join(f"„{n}“" for n in names)}
                ]
            }
        )
    mail_template.delete()


def send_test_mail(
    mail_template: MailTemplate,
    *,
    to_email: str,
    customer_id: int | None = None,
    extra: dict | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue the template, personalised for a customer (or with every fallback), to a staff
    member's own address. The key holds the time, so each test send goes out."""
    now = now or timezone.now()
    rendered = None
    if customer_id is not None:
        rendered = render_for_customer(mail_template, customer_id, extra=extra)
    rendered = rendered or render_sample(mail_template, extra=extra)
    key = f"template-test:{mail_template.pk}:{now.isoformat()}:{to_email}"[:200]
    return bool(
        enqueue_messages(
            [
                NewMessage(
                    key=key,
                    to_email=to_email,
                    subject=f"[Test] {rendered.subject}",
                    text_body=rendered.text,
                    html_body=rendered.html,
                    purpose=MessagePurpose.TRANSACTIONAL,
                )
            ],
            now=now,
        )
    )


def ensure_default_mail_templates() -> int:
    """Create treu's German default templates that are missing; bring unedited ones up to
    date. A default someone edited (`edited_at`) is never written again. Returns the count
    of templates created or changed."""
    existing = {
        t.default_key: t
        for t in MailTemplate.objects.filter(default_key__in=[d["key"] for d in DEFAULT_TEMPLATES])
    }
    changed = 0
    with transaction.atomic():
        for default in DEFAULT_TEMPLATES:
            fields = {
                "name": default["name"],
                "kind": default["kind"],
                "subject": default["subject"],
                "preheader": default["preheader"],
                "blocks": default["blocks"],
            }
            current = existing.get(default["key"])
            if current is None:
                MailTemplate.objects.create(default_key=default["key"], **fields)
                changed += 1
            elif current.edited_at is None and any(
                getattr(current, k) != v for k, v in fields.items()
            ):
                for k, v in fields.items():
                    setattr(current, k, v)
                current.save()
                changed += 1
    return changed


def default_templates_after_migrate(sender, **kwargs) -> None:
    if sender.label == "messaging":
        ensure_default_mail_templates()
