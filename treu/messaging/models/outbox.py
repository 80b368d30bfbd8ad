"""The outbox: every mail treu sends is first a row here, sent by the worker exactly once."""

from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MessagePurpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    TRANSACTIONAL = "transactional", _("Transactional")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")
    # The worker stopped while the mail server had it: it may or may not have gone out.
    UNCLEAR = "unclear", _("Delivery unclear")


class DeliveryStatus(models.TextChoices):
    """What the mail provider reported after it took the mail (its tracking webhooks)."""

    UNKNOWN = "", _("Not reported")
    DEFERRED = "deferred", _("Delayed")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    REJECTED = "rejected", _("Rejected by the provider")
    COMPLAINED = "complained", _("Marked as spam")

    @classmethod
    def rank(cls, value: str) -> int:
        """A later report replaces an earlier one only if it says at least as much."""
        order = [cls.UNKNOWN, cls.DEFERRED, cls.DELIVERED, cls.BOUNCED, cls.REJECTED]
        return 9 if value == cls.COMPLAINED else order.index(value) if value in order else 0


class OutboundMessage(models.Model):
    """One mail to one address, unique by its key ("campaign:7:customer:42").

    The key makes a message exist once however often a job runs; the status makes it go
    out once however often a worker crashes: a worker claims rows for a short lease, marks
    the moment it hands a mail to the server (`handing_over`), and marks it sent. A row
    whose lease ran out is sent again only if it had not been handed over yet.
    """

    key = models.CharField(_("key"), max_length=200, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # "messaging_outbox_customer_sent" starts with it
    )
    to_email = models.CharField(_("to"), max_length=254)
    purpose = models.CharField(_("purpose"), max_length=16, choices=MessagePurpose.choices)
    subject = models.CharField(_("subject"), max_length=998)
    text_body = models.TextField(_("text"))
    html_body = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    # Unique through Meta.constraints: no second (LIKE) index to keep up on every write.
    message_id = models.CharField(_("Message-ID"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    not_before = models.DateTimeField(_("not before"))
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    handing_over = models.BooleanField(_("being handed to the mail server"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The provider's own id for the mail (django-anymail's `anymail_status.message_id`);
    # its tracking webhooks name the mail by it.
    provider_message_id = models.CharField(_("provider's message id"), max_length=255, blank=True)
    delivery_status = models.CharField(
        _("delivery"), max_length=16, choices=DeliveryStatus.choices, blank=True, default=""
    )
    delivery_status_at = models.DateTimeField(_("delivery reported"), null=True, blank=True)
    delivery_detail = models.CharField(_("delivery detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            # What the workers claim next: only queued rows, in the order they are due.
            models.Index(
                fields=["not_before", "id"],
                name="messaging_outbox_due",
                condition=Q(status="queued"),
            ),
            models.Index(
                fields=["lease_until"],
                name="messaging_outbox_leased",
                condition=Q(status="sending"),
            ),
            models.Index(fields=["sent_at"], name="messaging_outbox_sent"),
            # A customer's mails by time: the last touch before an order (conversions). With
            # the two single-column indexes PostgreSQL ANDs a campaign's whole sending day
            # into every order's lookup (minutes instead of a second for 30,000 orders).
            models.Index(fields=["customer", "sent_at"], name="messaging_outbox_customer_sent"),
            models.Index(fields=["status", "-created_at"], name="messaging_outbox_status"),
            # Tracking webhooks name the mail by it (no LIKE index beside it, as db_index makes).
            models.Index(fields=["provider_message_id"], name="messaging_outbox_provider_id"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="messaging_outbox_message_id"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.to_email}"

    @staticmethod
    def message_id_for(key: str, domain: str) -> str:
        """The same key always gives the same Message-ID: a resent mail is recognisable."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"<{digest}@{domain}>"


class SuppressionReason(models.TextChoices):
    BOUNCE = "bounce", _("Bounced")
    COMPLAINT = "complaint", _("Marked as spam")
    MANUAL = "manual", _("Blocked by staff")


class Suppression(models.Model):
    """An address treu no longer writes to: bounced, complained about, or blocked by staff.

    A bounce or a staff block stops every mail; a spam complaint stops marketing only
    (an order confirmation is still owed to the customer).
    """

    email = models.CharField(_("email"), max_length=254, unique=True)  # lower-case
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.email

    def blocks(self, purpose: str) -> bool:
        return self.reason != SuppressionReason.COMPLAINT or purpose == MessagePurpose.MARKETING
