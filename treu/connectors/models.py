"""A shop system connected by webhooks, and every delivery it sent us."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

PLATFORMS = ("shopify", "woocommerce", "shopware")  # commerce.ShopKind values with webhooks


def new_secret() -> str:
    # 48 URL-safe characters: pasted into shop admin screens, so no quotes or ampersands.
    return secrets.token_urlsafe(36)


class ShopConnection(models.Model):
    """How one shop (Shopify, WooCommerce, Shopware) sends its data to treu.

    The secret is kept readable: verifying an HMAC signature needs the key itself.
    """

    shop = models.OneToOneField(
        "commerce.Shop",
        verbose_name=_("shop"),
        on_delete=models.CASCADE,
        related_name="connection",
    )
    secret = models.CharField(_("signing secret"), max_length=200, default=new_secret)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    secret_changed_at = models.DateTimeField(_("secret changed"), null=True, blank=True)
    last_received_at = models.DateTimeField(_("last delivery"), null=True, blank=True)

    class Meta:
        verbose_name = _("shop connection")
        verbose_name_plural = _("shop connections")
        ordering = ["shop__name"]

    def __str__(self) -> str:
        return str(self.shop)

    @property
    def platform(self) -> str:
        return self.shop.kind


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")
    IGNORED = "ignored", _("Ignored")


class InboundDelivery(models.Model):
    """One webhook call as received: stored first, applied by the worker.

    `body` is the raw request body (it holds the shop's customer data); it is
    emptied some days after processing and on erasure (see privacy.py).
    """

    connection = models.ForeignKey(
        ShopConnection,
        verbose_name=_("connection"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    topic = models.CharField(_("topic"), max_length=100)
    delivery_id = models.CharField(_("delivery id"), max_length=128)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    body = models.TextField(_("payload"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.RECEIVED,
        db_index=True,
    )
    error = models.TextField(_("error"), blank=True)
    result = models.CharField(_("result"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    # Set once applied: the person the delivery was about, so erasure finds it.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("inbound delivery")
        verbose_name_plural = _("inbound deliveries")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "delivery_id"], name="inbound_delivery_unique"
            )
        ]
        indexes = [
            models.Index(fields=["connection", "received_at"], name="inbound_conn_received"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.delivery_id}"
