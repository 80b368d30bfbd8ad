from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})


def fold(text: str) -> str:
    """Lower-case ASCII form for search: 'Jürgen Weiß' -> 'juergen weiss'."""
    lowered = " ".join(text.lower().split()).translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


class Language(models.TextChoices):
    GERMAN = "de", _("German")
    ENGLISH = "en", _("English")


class SourceChannel(models.TextChoices):
    ONLINE_SHOP = "online", _("Online shop")
    STORE = "store", _("Store")
    MARKETPLACE = "marketplace", _("Marketplace")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    MANUAL = "manual", _("Entered by staff")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(TimeStampedModel):
    """One person who bought or signed up, however many shops they came through."""

    number = models.PositiveBigIntegerField(_("customer number"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), max_length=254, unique=True, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    # When the birthday was last set or changed (by the services, from any channel): a
    # birthday entered less than 30 days ahead earns no birthday points that year. Empty
    # for birthdays from before this was recorded (and rows written around the services).
    birthday_entered_at = models.DateTimeField(
        _("birthday entered"), null=True, blank=True, editable=False
    )
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.GERMAN
    )
    source_channel = models.CharField(
        _("source channel"),
        max_length=16,
        choices=SourceChannel.choices,
        default=SourceChannel.ONLINE_SHOP,
    )
    source_shop = models.ForeignKey(
        "commerce.Shop",
        verbose_name=_("source shop"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")

    # customer_newest (created_at, id) serves created_at lookups too: no index of its own.
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # Order summary, kept current by commerce so lists can sort and filter on an index.
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True, db_index=True)
    order_count = models.PositiveIntegerField(_("orders"), default=0, db_index=True)
    total_spent_cents = models.BigIntegerField(_("total spent"), default=0)

    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    # Folded copies of the name for fast prefix search ("mül" finds Müller).
    search_first_last = models.CharField(max_length=301, blank=True, editable=False)
    search_last_first = models.CharField(max_length=301, blank=True, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("merge_customer", _("Can merge duplicate customers"))]
        # Prefix-search indexes for the name (and on SQLite the email) columns are created
        # per database in migrations 0002/0003 (SQLite needs NOCASE, PostgreSQL
        # varchar_pattern_ops, which Django already adds for the unique email). Every index
        # here is paid for by each order ingested: the order figures change with it.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="customer_newest"),
            # A plain index: db_index would add a second, LIKE-only one on PostgreSQL.
            models.Index(fields=["source_channel"], name="customer_source_channel"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(email__isnull=True) | Q(email=Lower("email")),
                name="customer_email_lowercase",
            ),
            models.CheckConstraint(
                condition=Q(total_spent_cents__gte=0), name="customer_spent_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.display_number

    def save(self, *args, **kwargs) -> None:
        self.refresh_search_keys()
        self.email = normalise_email(self.email)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "search_first_last",
                "search_last_first",
                "email",
            }
        super().save(*args, **kwargs)

    def refresh_search_keys(self) -> None:
        self.search_first_last = fold(f"{self.first_name} {self.last_name}")
        self.search_last_first = fold(f"{self.last_name} {self.first_name}")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_number(self) -> str:
        return f"K{self.number:06d}"

    @property
    def is_repeat_buyer(self) -> bool:
        return self.order_count >= 2


class AddressKind(models.TextChoices):
    BILLING = "billing", _("Billing address")
    SHIPPING = "shipping", _("Shipping address")


class Address(TimeStampedModel):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=AddressKind.choices, default=AddressKind.SHIPPING
    )
    company = models.CharField(_("company"), max_length=150, blank=True)
    street = models.CharField(_("street and number"), max_length=200)
    address_extra = models.CharField(_("address line 2"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=16, db_index=True)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="DE")
    is_default = models.BooleanField(_("default"), default=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"


class ExternalId(models.Model):
    """How a shop system calls this customer (Shopify id, WooCommerce id, POS member no.)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="external_ids"
    )
    shop = models.ForeignKey(
        "commerce.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    external_id = models.CharField(_("external id"), max_length=128)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("external id")
        verbose_name_plural = _("external ids")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"], name="external_id_unique_per_shop"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shop_id}:{self.external_id}"


class Note(TimeStampedModel):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("note"), max_length=5000)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]
