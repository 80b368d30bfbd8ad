"""The rewards catalogue, redemptions, single-use coupons and store credit.

A redemption takes points through the ledger (`PointsEntry`) and gives either a coupon or
store credit. Coupon values are copied from the reward when it is redeemed, so a reward
changed later never changes coupons already issued. Store credit has a ledger of its own
(`CreditEntry`) whose sum `Member.credit_cents` mirrors, like the points sums.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel
from treu.loyalty.models.points import Member, PointsEntry


class RewardKind(models.TextChoices):
    FIXED_AMOUNT = "fixed_amount", _("Fixed discount")
    PERCENT = "percent", _("Percent discount")
    FREE_PRODUCT = "free_product", _("Free product")
    FREE_SHIPPING = "free_shipping", _("Free shipping")
    STORE_CREDIT = "store_credit", _("Store credit")
    PERK = "perk", _("Exclusive or early access")
    EXPERIENCE = "experience", _("Experience (event with limited seats)")
    PARTNER = "partner", _("Partner perk")


# Kinds the shop's checkout applies to a basket; the others are shown to the member
# (a perk's access code, an invitation, a partner's voucher) and never consumed by a till.
CHECKOUT_KINDS = frozenset(
    {
        RewardKind.FIXED_AMOUNT,
        RewardKind.PERCENT,
        RewardKind.FREE_PRODUCT,
        RewardKind.FREE_SHIPPING,
    }
)


class Reward(TimeStampedModel):
    """A reward of the catalogue. Which fields matter depends on the kind (see clean())."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    kind = models.CharField(_("kind"), max_length=16, choices=RewardKind.choices)
    points_cost = models.PositiveIntegerField(
        _("points cost"), validators=[MinValueValidator(1), MaxValueValidator(10_000_000)]
    )
    active = models.BooleanField(_("active"), default=True)
    available_from = models.DateTimeField(_("available from"), null=True, blank=True)
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)
    limit_per_member = models.PositiveIntegerField(
        _("limit per member"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Leave empty for no limit."),
    )
    coupon_valid_days = models.PositiveSmallIntegerField(
        _("coupon valid for (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    amount_cents = models.BigIntegerField(_("amount (cents)"), null=True, blank=True)
    percent = models.PositiveSmallIntegerField(_("percent"), null=True, blank=True)
    max_discount_cents = models.BigIntegerField(
        _("maximum discount (cents)"), null=True, blank=True
    )
    product_sku = models.CharField(_("product SKU"), max_length=64, blank=True)
    access_code = models.CharField(
        _("access code"),
        max_length=64,
        blank=True,
        help_text=_("Shown to the member with the coupon, e.g. the code of a pre-sale page."),
    )
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0, editable=False)
    partner_name = models.CharField(_("partner"), max_length=100, blank=True)
    # Empty: every member may redeem it; otherwise only members in one of these tiers.
    eligible_tiers = models.ManyToManyField(
        "loyalty.Tier",
        verbose_name=_("only for tiers"),
        blank=True,
        related_name="rewards",
        help_text=_("Leave empty for every member; otherwise tick every tier that may redeem it."),
    )

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["points_cost", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="loyalty_reward_cost"),
            # Seats are never oversold: the counter moves by a conditional UPDATE and the
            # database refuses one past the seats as well.
            models.CheckConstraint(
                condition=Q(seats__isnull=True) | Q(seats_taken__lte=models.F("seats")),
                name="loyalty_reward_seats_not_oversold",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def seats_left(self) -> int | None:
        return None if self.seats is None else max(self.seats - self.seats_taken, 0)


class PartnerCode(models.Model):
    """One of a partner's voucher codes; handed out to exactly one redemption."""

    reward = models.ForeignKey(
        Reward, verbose_name=_("reward"), on_delete=models.CASCADE, related_name="partner_codes"
    )
    code = models.CharField(_("code"), max_length=64)
    handed_out_at = models.DateTimeField(_("handed out"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner code")
        verbose_name_plural = _("partner codes")
        constraints = [
            models.UniqueConstraint(fields=["reward", "code"], name="loyalty_partner_code_once")
        ]
        indexes = [
            models.Index(
                fields=["reward", "id"],
                condition=Q(handed_out_at__isnull=True),
                name="loyalty_partner_code_free",
            )
        ]

    def __str__(self) -> str:
        return self.code


class Redemption(models.Model):
    """A member exchanged points for a reward: the points row, and a coupon or credit."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="redemptions"
    )
    reward = models.ForeignKey(
        Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="redemptions"
    )
    points = models.PositiveIntegerField(_("points"))
    entry = models.OneToOneField(
        PointsEntry, verbose_name=_("points entry"), on_delete=models.PROTECT, related_name="+"
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=20, blank=True)
    key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Undone at the till: points given back, the coupon void or the credit taken back.
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "reward"], name="loyalty_redemption_member")]
        constraints = [models.UniqueConstraint(fields=["key"], name="loyalty_redemption_key_once")]

    def __str__(self) -> str:
        return f"{self.reward} ({self.points})"


class Coupon(models.Model):
    """A single-use code a redemption created; its value is copied from the reward then.

    `used_at` is set by one conditional UPDATE (`used_at IS NULL`), so of two checkouts
    racing for the code exactly one wins; releasing (order cancelled) clears it again.
    """

    code = models.CharField(_("code"), max_length=20, unique=True)
    redemption = models.OneToOneField(
        Redemption,
        verbose_name=_("redemption"),
        # None for a referral's welcome coupon: given, not bought with points.
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupon",
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="coupons"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=RewardKind.choices)
    amount_cents = models.BigIntegerField(_("amount (cents)"), null=True, blank=True)
    percent = models.PositiveSmallIntegerField(_("percent"), null=True, blank=True)
    max_discount_cents = models.BigIntegerField(
        _("maximum discount (cents)"), null=True, blank=True
    )
    product_sku = models.CharField(_("product SKU"), max_length=64, blank=True)
    # A perk's access code or the partner's voucher code, shown with the coupon.
    detail_code = models.CharField(_("code for the member"), max_length=64, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    # Void (its redemption was undone at the till): never usable again. Set by a conditional
    # UPDATE on `used_at IS NULL`, like a checkout's use, so the two cannot both win.
    voided_at = models.DateTimeField(_("void since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at"], name="loyalty_coupon_member")]

    def __str__(self) -> str:
        return self.code

    def refusal(self, *, now, customer_id: int | None = None) -> tuple[str, str] | None:
        """(type, German message) why a checkout may not take this coupon now, or None."""
        if self.kind not in CHECKOUT_KINDS:
            return "not_for_checkout", str(
                _("This code is not a discount: it is shown to the member, not used at checkout.")
            )
        if self.voided_at is not None:
            return "voided", str(_("This coupon was cancelled."))
        if self.used_at is not None:
            return "used", str(_("This coupon has already been used."))
        if self.expires_at <= now:
            return "expired", str(_("This coupon has expired."))
        if customer_id is not None and customer_id != self.member.customer_id:
            return "wrong_member", str(_("This coupon belongs to another customer."))
        return None

    def discount_for(self, basket_cents: int) -> int:
        """The discount in cents on a basket: never more than the basket; percent rounds down."""
        if self.kind == RewardKind.FIXED_AMOUNT:
            return min(self.amount_cents or 0, basket_cents)
        if self.kind == RewardKind.PERCENT:
            discount = basket_cents * (self.percent or 0) // 100
            if self.max_discount_cents is not None:
                discount = min(discount, self.max_discount_cents)
            return discount
        return 0  # free shipping and free products: the shop applies them itself


class CouponUse(models.Model):
    """A checkout consumed a coupon for an order; `released_at` when the order was cancelled."""

    coupon = models.ForeignKey(
        Coupon, verbose_name=_("coupon"), on_delete=models.CASCADE, related_name="uses"
    )
    shop = models.CharField(_("shop"), max_length=50)
    order_external_id = models.CharField(_("order in the shop"), max_length=128)
    basket_cents = models.BigIntegerField(_("basket (cents)"))
    discount_cents = models.BigIntegerField(_("discount (cents)"))
    used_at = models.DateTimeField(_("used"))
    released_at = models.DateTimeField(_("released"), null=True, blank=True)

    class Meta:
        verbose_name = _("coupon use")
        verbose_name_plural = _("coupon uses")
        indexes = [models.Index(fields=["shop", "order_external_id"], name="loyalty_use_order")]
        constraints = [
            # The backstop of "exactly once": at most one unreleased use per coupon.
            models.UniqueConstraint(
                fields=["coupon"],
                condition=Q(released_at__isnull=True),
                name="loyalty_coupon_used_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coupon_id}@{self.shop}/{self.order_external_id}"


class CreditKind(models.TextChoices):
    ISSUE = "issue", _("Issued")
    SPEND = "spend", _("Spent")
    RESTORE = "restore", _("Restored")
    REVOKE = "revoke", _("Taken back")


class CreditEntry(models.Model):
    """The store-credit ledger (Guthaben), in cents; `Member.credit_cents` is its sum."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="credit_entries"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=CreditKind.choices)
    cents = models.BigIntegerField(_("amount (cents)"))
    redemption = models.OneToOneField(
        Redemption,
        verbose_name=_("redemption"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit",
    )
    shop = models.CharField(_("shop"), max_length=50, blank=True)
    order_external_id = models.CharField(_("order in the shop"), max_length=128, blank=True)
    # A spend is restored at most once: the restoring row points at it.
    restores = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="restored_by"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("store credit entry")
        verbose_name_plural = _("store credit entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="loyalty_credit_member"),
            models.Index(fields=["shop", "order_external_id"], name="loyalty_credit_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["issue", "restore"], cents__gt=0)
                | Q(kind__in=["spend", "revoke"], cents__lt=0),
                name="loyalty_credit_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.cents:+d}"
