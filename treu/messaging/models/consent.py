"""Marketing consent per customer and channel: the current state and its append-only history.

`Consent` is the current state of one (customer, channel) pair, read by every selector and
by the set-based condition segments use. `ConsentRecord` is the proof: one row per step
(sign-up, confirmation mail sent, confirmed, preferences changed, withdrawn, expired …),
written once and never changed or deleted. Each record carries the state it left behind,
so the current state always equals the newest record's (tested as a property).

The only changes a record ever sees go through the narrowly named queryset methods below
(merging two customers, minimising on erasure, wiping the demo); `save()` of an existing
record, `delete()`, and a queryset's plain `update()` / `delete()` refuse.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")


# What the consent is for; the newsletter (all marketing mail) for now. Part of the
# `consent.*` event payloads (loyalty rewards only the email newsletter).
PURPOSE_NEWSLETTER = "newsletter"


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consent (double opt-in)")
    # §7(3) UWG: own similar products to a customer who bought, with the objection notice
    # when the address was collected and in every mail, as long as they do not object.
    EXISTING_CUSTOMER = "existing_customer", _("Existing customer (§7(3) UWG)")


class ConsentSource(models.TextChoices):
    PAGE = "page", _("Own sign-up page")
    EMBED = "embed", _("Embedded form")
    PORTAL = "portal", _("Customer portal")
    CASHIER = "cashier", _("Cashier")
    IMPORT = "import", _("Import")
    BACKOFFICE = "backoffice", _("Back office")
    CHECKOUT = "checkout", _("Shop checkout")


class ConsentState(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    ACTIVE = "active", _("Active")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Not confirmed in time")


class ConsentAction(models.TextChoices):
    SIGNUP = "signup", _("Signed up")
    MAIL_SENT = "mail_sent", _("Confirmation mail sent")
    CONFIRMED = "confirmed", _("Confirmed")
    GRANTED = "granted", _("Existing-customer basis recorded")
    PREFERENCES = "preferences", _("Preferences changed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Not confirmed in time")
    MERGED = "merged", _("Customers merged")


class WithdrawalMethod(models.TextChoices):
    ONE_CLICK = "one_click", _("One-click unsubscribe in the mail program")
    LINK = "link", _("Unsubscribe link in a mail")
    PREFERENCES = "preferences", _("Preference page")
    BACKOFFICE = "backoffice", _("Entered by staff")
    ERASURE = "erasure", _("Customer data erased")
    PORTAL = "portal", _("Customer portal")
    # The sunset automation: no open or click for a long time, its last mail not clicked.
    SUNSET = "sunset", _("Ended after a long silence (automation)")


class Frequency(models.TextChoices):
    ALL = "all", _("Everything we send")
    WEEKLY = "weekly", _("At most weekly")
    MONTHLY = "monthly", _("At most monthly")


class ConsentText(models.Model):
    """One version of the wording a person agreed to; a new wording is a new version.

    `basis` says what it is for: the consent checkbox's text, or the §7(3) UWG objection
    notice shown when the address is collected at a purchase. Never edited once saved.
    """

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    basis = models.CharField(_("legal basis"), max_length=24, choices=LegalBasis.choices)
    version = models.PositiveIntegerField(_("version"))
    # The German wording, shown on the form and stored as shown (not personal data).
    wording = models.TextField(_("wording"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent text")
        verbose_name_plural = _("consent texts")
        ordering = ["channel", "basis", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "basis", "version"], name="consent_text_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_basis_display()} · v{self.version}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("A consent text is never changed; save a new version.")
        super().save(*args, **kwargs)


class Topic(models.Model):
    """What a newsletter is about (Neuigkeiten, Angebote …): people may choose among them."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    # §7(3) UWG covers only the shop's own similar products: topics that qualify may be
    # mailed to existing customers without consent (offers and news of products they know).
    similar_products = models.BooleanField(_("about similar products"), default=False)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Consent(models.Model):
    """The current marketing permission of one customer on one channel."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,  # the history is proof: merged or erased, never cascaded
        related_name="consents",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # The address (email, phone number) the permission is for: another address is not covered.
    address = models.CharField(_("address"), max_length=254, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=ConsentState.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=24, choices=LegalBasis.choices)
    source = models.CharField(_("source"), max_length=16, choices=ConsentSource.choices)
    wording = models.ForeignKey(
        ConsentText,
        verbose_name=_("consent text"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="+")
    frequency = models.CharField(
        _("frequency"), max_length=16, choices=Frequency.choices, default=Frequency.ALL
    )
    # Opens of marketing mails are measured (a tracking pixel) only where the person
    # allowed it on the preference page; off by default. Clicks are counted by redirect.
    tracking = models.BooleanField(_("opens may be measured"), default=False)
    signed_up_at = models.DateTimeField(_("signed up"), null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation sent"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    # SHA-256 of the pending confirmation link's token; the token itself is only in the mail.
    token_hash = models.CharField(_("token hash"), max_length=64, blank=True, db_index=True)
    token_expires_at = models.DateTimeField(_("link valid until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="consent_one_per_channel"),
            models.CheckConstraint(
                condition=Q(state__in=ConsentState.values), name="consent_state_known"
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "state"], name="consent_channel_state"),
            models.Index(fields=["state", "signed_up_at"], name="consent_state_signup"),
        ]
        permissions = [("view_consent_proof", "Can view a customer's consent proof")]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.channel} · {self.state}"


class AppendOnlyError(RuntimeError):
    """A history row was about to be changed or deleted."""


class ConsentRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Consent records are append-only; append a new record instead.")

    def delete(self):
        raise AppendOnlyError("Consent records are append-only and never deleted.")

    # The three sanctioned changes, each named for its one caller.

    def move_to_customer(self, customer_id: int) -> int:
        """Merging customers: the duplicate's proof now belongs to the survivor."""
        return super().update(customer_id=customer_id)

    def move_to_consent(self, consent_id: int, customer_id: int) -> int:
        """Merging customers: two histories of one channel become one."""
        return super().update(consent_id=consent_id, customer_id=customer_id)

    def minimise(self, **blanked) -> int:
        """Erasure: personal fields replaced (address by its hash, free text blanked)."""
        allowed = {"address", "reason"}
        if set(blanked) - allowed:
            raise AppendOnlyError(f"Only {sorted(allowed)} may be minimised.")
        return super().update(**blanked)

    def wipe_for_demo(self) -> int:
        """Rebuilding the demo database: every row goes (never used on real data)."""
        return super().delete()[0]


class ConsentRecord(models.Model):
    """One step in a consent's history, written once. The legal proof of the permission."""

    consent = models.ForeignKey(
        Consent, verbose_name=_("consent"), on_delete=models.PROTECT, related_name="records"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="consent_records",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    action = models.CharField(_("action"), max_length=16, choices=ConsentAction.choices)
    state = models.CharField(_("state afterwards"), max_length=16, choices=ConsentState.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=24, choices=LegalBasis.choices)
    source = models.CharField(_("source"), max_length=16, choices=ConsentSource.choices)
    wording = models.ForeignKey(
        ConsentText,
        verbose_name=_("consent text"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
    )
    # The address at the time (after erasure: "sha256:<hash>", still matchable to a complaint).
    address = models.CharField(_("address"), max_length=254, blank=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    token_hash = models.CharField(_("token hash"), max_length=64, blank=True, db_index=True)
    method = models.CharField(
        _("way of withdrawal"), max_length=16, choices=WithdrawalMethod.choices, blank=True
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # Topics, frequency, who in the back office: small facts of the step.
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="consent_record_customer"),
            models.Index(fields=["action", "-occurred_at"], name="consent_record_action"),
            models.Index(fields=["ip", "action", "occurred_at"], name="consent_record_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.channel} · {self.action} @ {self.occurred_at}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Consent records are append-only; append a new record instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Consent records are append-only and never deleted.")
