"""Mail templates: subject, preheader and an ordered list of blocks (validated JSON)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treu.messaging.models.outbox import MessagePurpose


class MailTemplate(models.Model):
    """A mail as blocks; `mail_templates.blocks` validates them, `.render` renders them.

    The blocks are saved only through `mail_templates.services.save_mail_template`, which
    compiles every personalised text first: a template that is stored always renders.
    `default_key` marks treu's German defaults; once staff edit one (`edited_at`), treu
    never writes it again.
    """

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(
        _("kind"), max_length=16, choices=MessagePurpose.choices, default=MessagePurpose.MARKETING
    )
    subject = models.CharField(_("subject"), max_length=300)
    preheader = models.CharField(_("preheader"), max_length=200, blank=True)
    blocks = models.JSONField(_("blocks"), default=list, blank=True)
    default_key = models.CharField(max_length=40, blank=True, editable=False)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("mail template")
        verbose_name_plural = _("mail templates")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["default_key"],
                condition=~Q(default_key=""),
                name="messaging_mailtemplate_default_once",
            )
        ]

    def __str__(self) -> str:
        return self.name
