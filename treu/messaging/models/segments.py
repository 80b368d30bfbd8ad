"""Segments: a named rule tree over customers, and the stored list of who is in it.

The rules are JSON validated by `treu.messaging.segments.rules` (see docs/segments.md for the
schema); who belongs is computed by the database from them, and `SegmentMembership` keeps
that answer (plus since when) so campaigns and automations read a plain indexed table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel


def empty_rules() -> dict:
    return {"version": 1, "match": "all", "groups": []}


class Segment(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    rules = models.JSONField(_("rules"), default=empty_rules)
    # Inactive segments keep their last members but are neither refreshed nor updated.
    active = models.BooleanField(_("active"), default=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    """A customer in a segment, since the refresh or event that put them there."""

    segment = models.ForeignKey(
        Segment,
        verbose_name=_("segment"),
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,  # the unique (segment, customer) index serves segment lookups
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="+",
        # Its index serves the event-driven update (a few customers in every segment).
    )
    since = models.DateTimeField(_("member since"))

    class Meta:
        verbose_name = _("segment membership")
        verbose_name_plural = _("segment memberships")
        constraints = [
            # Also the index the refresh's anti-joins probe (segment_id = … AND customer_id = …).
            models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_once")
        ]
        indexes = [
            # The member list shows the newest members of a segment first.
            models.Index(fields=["segment", "-since", "-customer"], name="segment_member_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.customer_id}"


class CustomerList(models.Model):
    """A fixed list of customers, e.g. the customers behind a figure on the dashboard.

    Segments use it through the rule "in the list …", so a list from a drill-down can be
    combined with other rules (and with consent) like any field. It never changes.
    """

    name = models.CharField(_("name"), max_length=200)
    source = models.CharField(_("taken from"), max_length=500, blank=True)
    size = models.PositiveIntegerField(_("customers"), default=0)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("customer list")
        verbose_name_plural = _("customer lists")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class CustomerListEntry(models.Model):
    customer_list = models.ForeignKey(
        CustomerList,
        verbose_name=_("customer list"),
        on_delete=models.CASCADE,
        related_name="entries",
        db_index=False,  # the unique (list, customer) index serves list lookups
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        verbose_name = _("customer list entry")
        verbose_name_plural = _("customer list entries")
        constraints = [
            models.UniqueConstraint(
                fields=["customer_list", "customer"], name="messaging_list_entry_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_list_id}: {self.customer_id}"
