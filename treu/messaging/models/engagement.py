"""What recipients did with a mail on this installation: opened it, clicked a link."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    OPEN = "open", _("Opened")
    CLICK = "click", _("Clicked")


class MessageEvent(models.Model):
    """One open (pixel; only where the customer allowed it) or one click (redirect link).

    Append-only; the engagement segment rule ("clicked within N days") reads it.
    """

    message = models.ForeignKey(
        "messaging.OutboundMessage",
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=EventKind.choices)
    at = models.DateTimeField(_("at"))
    url = models.CharField(_("link"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("message event")
        verbose_name_plural = _("message events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["message", "kind"], name="messaging_event_message"),
            models.Index(fields=["kind", "at"], name="messaging_event_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id} {self.at:%Y-%m-%d %H:%M}"
