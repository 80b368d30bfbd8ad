from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from treu.core.models import TimeStampedModel
from treu.core.money import CURRENCY


class ShopKind(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    SHOPWARE = "shopware", "Shopware"
    POS = "pos", _("Point of sale (store)")
    MANUAL = "manual", _("Other / manual")


class Shop(TimeStampedModel):
    """A sales channel feeding treu: an online shop or a store's till."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("system"), max_length=16, choices=ShopKind.choices)
    is_store = models.BooleanField(_("physical store"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
    )
    price_cents = models.PositiveBigIntegerField(_("price (gross)"))
    tax_rate_bp = models.PositiveIntegerField(
        _("VAT rate"), default=1900, help_text=_("In basis points: 19 % = 1900, 7 % = 700.")
    )
    is_consumable = models.BooleanField(
        _("consumable"), default=False, help_text=_("Used up and bought again, like coffee beans.")
    )
    reorder_interval_days = models.PositiveSmallIntegerField(
        _("typical reorder interval (days)"), null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_consumable=True) | Q(reorder_interval_days__isnull=True),
                name="product_reorder_only_consumable",
            ),
            models.CheckConstraint(
                condition=Q(tax_rate_bp__lte=10000), name="product_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


class Order(TimeStampedModel):
    """A purchase as the shop reported it. The source of truth for every revenue figure.

    Amounts are gross euro cents. The database itself refuses totals that do
    not reconcile: subtotal + shipping − discount = total, net + tax = total.
    """

    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="orders"
    )
    external_id = models.CharField(_("external id"), max_length=128)
    number = models.CharField(_("order number"), max_length=64, db_index=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=OrderStatus.choices,
        default=OrderStatus.PAID,
        db_index=True,
    )
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY)
    subtotal_cents = models.BigIntegerField(_("subtotal"))
    shipping_cents = models.BigIntegerField(_("shipping"), default=0)
    discount_cents = models.BigIntegerField(_("discount"), default=0)
    total_cents = models.BigIntegerField(_("total (gross)"))
    tax_cents = models.BigIntegerField(_("VAT"))
    net_cents = models.BigIntegerField(_("total (net)"))
    refunded_cents = models.BigIntegerField(_("refunded"), default=0)
    placed_at = models.DateTimeField(_("placed"), db_index=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # The shop's own "last changed" time: an update older than what we hold is ignored,
    # so webhooks that arrive out of order never roll an order back.
    source_updated_at = models.DateTimeField(_("changed in the shop"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        indexes = [models.Index(fields=["customer", "placed_at"], name="order_customer_placed")]
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="order_unique_per_shop"),
            models.CheckConstraint(condition=Q(currency=CURRENCY), name="order_currency_eur"),
            models.CheckConstraint(
                condition=Q(
                    total_cents=F("subtotal_cents") + F("shipping_cents") - F("discount_cents")
                ),
                name="order_total_reconciles",
            ),
            models.CheckConstraint(
                condition=Q(net_cents=F("total_cents") - F("tax_cents")), name="order_net_plus_tax"
            ),
            models.CheckConstraint(
                condition=Q(subtotal_cents__gte=0)
                & Q(shipping_cents__gte=0)
                & Q(discount_cents__gte=0)
                & Q(total_cents__gte=0)
                & Q(tax_cents__gte=0)
                & Q(refunded_cents__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=F("total_cents")), name="order_refund_within_total"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def revenue_cents(self) -> int:
        """What the shop keeps: gross total less refunds (0 when cancelled)."""
        if self.status == OrderStatus.CANCELLED:
            return 0
        return self.total_cents - self.refunded_cents

    @property
    def counts_as_purchase(self) -> bool:
        return self.status != OrderStatus.CANCELLED


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_lines",
    )
    external_id = models.CharField(_("line id in the shop"), max_length=128, blank=True)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    title = models.CharField(_("item"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price_cents = models.BigIntegerField(_("unit price (gross)"))
    discount_cents = models.BigIntegerField(_("line discount"), default=0)
    total_cents = models.BigIntegerField(_("line total (gross)"))
    tax_rate_bp = models.PositiveIntegerField(_("VAT rate"), default=1900)
    tax_cents = models.BigIntegerField(_("VAT"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price_cents__gte=0)
                & Q(discount_cents__gte=0)
                & Q(tax_cents__gte=0),
                name="order_line_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    total_cents=F("quantity") * F("unit_price_cents") - F("discount_cents")
                ),
                name="order_line_total_reconciles",
            ),
            models.CheckConstraint(
                condition=Q(total_cents__gte=0), name="order_line_total_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", _("Arrived damaged")
    DEFECTIVE = "defective", _("Defective")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    CHANGED_MIND = "changed_mind", _("Changed mind")
    OTHER = "other", _("Other")


class Return(TimeStampedModel):
    """Goods sent back and money refunded for an order (Retoure / Erstattung)."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="returns"
    )
    external_id = models.CharField(_("external id"), max_length=128, blank=True)
    reason = models.CharField(
        _("reason"), max_length=32, choices=ReturnReason.choices, default=ReturnReason.OTHER
    )
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    shipping_refund_cents = models.BigIntegerField(_("shipping refunded"), default=0)
    # Money back that belongs to no item and not to shipping: a goodwill credit, or a
    # shop's refund that names no items (WooCommerce sends refunds as a bare amount).
    other_refund_cents = models.BigIntegerField(_("other refund"), default=0)
    amount_cents = models.BigIntegerField(_("amount refunded"))
    refunded_at = models.DateTimeField(_("refunded"), db_index=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-refunded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "external_id"],
                condition=~Q(external_id=""),
                name="return_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0)
                & Q(shipping_refund_cents__gte=0)
                & Q(other_refund_cents__gte=0),
                name="return_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} −{self.amount_cents}"


class ReturnLine(models.Model):
    return_record = models.ForeignKey(
        Return, verbose_name=_("return"), on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        OrderLine,
        verbose_name=_("order line"),
        on_delete=models.PROTECT,
        related_name="return_lines",
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    amount_cents = models.BigIntegerField(_("amount refunded"))

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="return_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0), name="return_line_amount_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.title}"
