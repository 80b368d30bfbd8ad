"""The checkout API (mounted at /api/v1/checkout, `checkout` scope): coupons, store credit
and a member's balance for shops and tills.

Money is integer euro cents. A refused coupon answers with the reason as a stable `type`
(unknown, expired, used, voided, wrong_member, not_for_checkout) and a German message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from treu.api.errors import ApiError, from_service, not_found
from treu.api.schemas import Cents, Status, StrictSchema, Text, errors_for
from treu.commerce import selectors as commerce_selectors
from treu.customers import selectors as customer_selectors
from treu.customers.models import Customer
from treu.loyalty import selectors, services, tier_selectors
from treu.loyalty.models import Coupon, CouponUse, Member, RewardKind

router = Router(tags=["checkout"])

CouponCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        description="As printed (ABCD-EFGH-JKMN); case, spaces and dashes do not matter",
    ),
]
CustomerNumber = Annotated[int, Field(strict=True, ge=1, le=10**15)]


class OrderRef(StrictSchema):
    """The order in the shop: the shop's code in treu and the shop's own order id."""

    shop: Annotated[str, Field(min_length=1, max_length=50)]
    external_id: Annotated[str, Field(min_length=1, max_length=128)]


class CouponCheckIn(StrictSchema):
    code: CouponCode
    basket_cents: Cents
    customer_number: CustomerNumber | None = Field(
        None, description="The buyer, if known: another customer's coupon is refused"
    )


class CouponUseIn(CouponCheckIn):
    order: OrderRef


class CouponValue(Schema):
    code: str
    kind: str
    discount_cents: int = Field(description="For this basket; 0 for free shipping or a product")
    free_shipping: bool
    free_product_sku: str | None
    expires_at: datetime


class CouponCheckOut(Schema):
    valid: bool
    reason: str | None = Field(
        None, description="unknown, expired, used, voided, wrong_member or not_for_checkout"
    )
    message: str | None = Field(None, description="Why not, in German (English on request)")
    coupon: CouponValue | None = None


class CouponUseOut(CouponValue):
    order: dict[str, str]
    basket_cents: int
    used_at: datetime


class ReleaseOut(Schema):
    coupons: list[str]
    credit_cents: int


class CreditSpendIn(StrictSchema):
    customer_number: CustomerNumber
    amount_cents: Annotated[int, Field(strict=True, ge=1, le=10**12)]
    order: OrderRef


class CreditSpendOut(Schema):
    customer_number: int
    spent_cents: int
    credit_cents: int = Field(description="Store credit left")


class OpenCoupon(Schema):
    code: str
    kind: str
    reward: str
    amount_cents: int | None
    percent: int | None
    max_discount_cents: int | None
    free_product_sku: str | None
    expires_at: datetime


class RewardOut(Schema):
    id: int
    name: str
    description: str
    kind: str
    points_cost: int
    amount_cents: int | None
    percent: int | None
    max_discount_cents: int | None
    free_product_sku: str | None
    seats_left: int | None
    available_until: datetime | None
    eligible_tiers: list[str] = Field(
        description="Only members in one of these tiers may redeem it; empty: every member"
    )


class RedeemIn(StrictSchema):
    reward_id: Annotated[int, Field(strict=True, ge=1, le=2**62)]


class RedemptionOut(Schema):
    id: int
    customer_number: int
    reward: str
    points: int = Field(description="Points taken")
    balance: int = Field(description="Available points left")
    coupon: OpenCoupon | None = Field(None, description="Unless the reward is store credit")
    detail_code: str | None = Field(
        None, description="A perk's access code or the partner's voucher, for the member"
    )
    credit_cents: int = Field(description="Store credit the member has now")


class BalanceOut(Schema):
    customer_number: int
    display_number: str
    point_name: str
    points: int = Field(description="Available points")
    pending_points: int = Field(description="Earned, available once the return window passed")
    credit_cents: int = Field(description="Store credit (Guthaben)")
    tier: str | None = Field(None, description="The member's tier, if tiers are set up")
    coupons: list[OpenCoupon]


def _customer(number: int, loc: tuple) -> Customer:
    customer = customer_selectors.customer_by_number(number)
    if customer is None or customer.erased_at:
        raise ApiError(422, _("There is no customer with this number."), loc=loc, type="rejected")
    return customer


def _member(number: int, loc: tuple) -> Member:
    member = selectors.member_by_customer_number(number)
    if member is None:
        _customer(number, loc)  # says "no such customer" first
        raise ApiError(
            422, _("This customer is not a member of the programme."), loc=loc, type="rejected"
        )
    return member


def _shop_code(ref: OrderRef, loc: tuple = ("body", "order", "shop")) -> str:
    if not commerce_selectors.shops().filter(code=ref.shop).exists():
        raise ApiError(422, _("There is no shop with this code."), loc=loc, type="rejected")
    return ref.shop


def _value(coupon: Coupon, basket_cents: int) -> dict:
    return {
        "code": coupon.code,
        "kind": coupon.kind,
        "discount_cents": coupon.discount_for(basket_cents),
        "free_shipping": coupon.kind == RewardKind.FREE_SHIPPING,
        "free_product_sku": coupon.product_sku or None,
        "expires_at": coupon.expires_at,
    }


def _refused(refused: services.CouponRefused) -> ApiError:
    status = 409 if refused.reason == "used" else 422
    return ApiError(status, refused.messages[0], loc=("body", "code"), type=refused.reason)


@router.post(
    "/coupons/check",
    response={200: CouponCheckOut, **errors_for(422)},
    summary="What a coupon is worth for a basket",
)
def check_coupon(request, payload: CouponCheckIn):
    """Changes nothing. `valid: false` with the reason when the checkout may not take it."""
    customer_id = None
    if payload.customer_number is not None:
        customer_id = _customer(payload.customer_number, ("body", "customer_number")).pk
    try:
        coupon = services.find_coupon(payload.code)
    except services.CouponRefused as refused:
        return {"valid": False, "reason": refused.reason, "message": refused.messages[0]}
    refusal = coupon.refusal(now=timezone.now(), customer_id=customer_id)
    if refusal is not None:
        return {"valid": False, "reason": refusal[0], "message": refusal[1]}
    return {"valid": True, "coupon": _value(coupon, payload.basket_cents)}


def _use_out(use: CouponUse) -> dict:
    return {
        **_value(use.coupon, use.basket_cents),
        "discount_cents": use.discount_cents,
        "order": {"shop": use.shop, "external_id": use.order_external_id},
        "basket_cents": use.basket_cents,
        "used_at": use.used_at,
    }


@router.post(
    "/coupons/use",
    response={200: CouponUseOut, 201: CouponUseOut, **errors_for(409, 422)},
    summary="Use a coupon for an order (exactly once)",
)
def use_coupon(request, payload: CouponUseIn):
    """201 when used now; 200 when this order had already used it (a retried checkout)."""
    customer_id = None
    if payload.customer_number is not None:
        customer_id = _customer(payload.customer_number, ("body", "customer_number")).pk
    try:
        use, created = services.consume_coupon(
            code=payload.code,
            basket_cents=payload.basket_cents,
            shop=_shop_code(payload.order),
            order_external_id=payload.order.external_id,
            customer_id=customer_id,
        )
    except services.CouponRefused as refused:
        raise _refused(refused) from None
    return Status(201 if created else 200, _use_out(use))


@router.post(
    "/orders/release",
    response={200: ReleaseOut, **errors_for(422)},
    summary="Give back the coupons and store credit of a cancelled order",
)
def release_order(request, payload: OrderRef):
    """Also happens by itself when treu learns of the cancellation (order.cancelled)."""
    released = services.release_order_rewards(
        shop=_shop_code(payload, ("body", "shop")), order_external_id=payload.external_id
    )
    return {"coupons": released.coupons, "credit_cents": released.credit_cents}


@router.post(
    "/credit/spend",
    response={200: CreditSpendOut, 201: CreditSpendOut, **errors_for(422)},
    summary="Pay part of an order with the member's store credit",
)
def spend_credit(request, payload: CreditSpendIn):
    """Once per order: the same order and amount again answers 200 and spends nothing."""
    member = _member(payload.customer_number, ("body", "customer_number"))
    try:
        entry, created = services.spend_store_credit(
            member=member,
            cents=payload.amount_cents,
            shop=_shop_code(payload.order),
            order_external_id=payload.order.external_id,
        )
    except services.LoyaltyError as refused:
        raise ApiError(422, "", errors=from_service(refused)) from None
    member.refresh_from_db(fields=["credit_cents"])
    body = {
        "customer_number": payload.customer_number,
        "spent_cents": -entry.cents,
        "credit_cents": member.credit_cents,
    }
    return Status(201 if created else 200, body)


def _member_in_path(number: str, loc: tuple = ("path", "number")) -> Member:
    digits = number.upper().removeprefix("K")
    member = None
    if digits.isdigit() and len(digits) <= 15:
        member = selectors.member_by_customer_number(int(digits))
    if member is None:
        raise not_found(_("There is no member with this customer number."), loc=loc)
    return member


def _open_coupon(coupon: Coupon) -> dict:
    return {
        "code": coupon.code,
        "kind": coupon.kind,
        # A referral's welcome coupon has no redemption behind it.
        "reward": (
            coupon.redemption.reward.name
            if coupon.redemption_id
            else _("Welcome discount for a referred friend")
        ),
        "amount_cents": coupon.amount_cents,
        "percent": coupon.percent,
        "max_discount_cents": coupon.max_discount_cents,
        "free_product_sku": coupon.product_sku or None,
        "expires_at": coupon.expires_at,
    }


@router.get(
    "/rewards",
    response={200: list[RewardOut], **errors_for(404)},
    summary="The rewards members can redeem now",
)
def list_rewards(request, customer_number: Annotated[int, Field(ge=1, le=10**15)] | None = None):
    """With `customer_number`: only the rewards open to that member's tier."""
    member = None
    if customer_number is not None:
        member = _member_in_path(str(customer_number), loc=("query", "customer_number"))
    computed = {"free_product_sku", "eligible_tiers"}
    fields = [name for name in RewardOut.model_fields if name not in computed]
    return [
        {
            **{name: getattr(r, name) for name in fields},
            "free_product_sku": r.product_sku or None,
            "eligible_tiers": [t.name for t in r.eligible_tiers.all()],  # prefetched
        }
        for r in selectors.rewards_on_offer(timezone.now(), member=member)
    ]


@router.post(
    "/members/{number}/redemptions",
    response={201: RedemptionOut, **errors_for(404, 422)},
    summary="Redeem a reward for a member's points (at the till, in the shop's account page)",
)
def redeem(request, number: Text, payload: RedeemIn):
    """Send an Idempotency-Key: a retried request then redeems once."""
    member = _member_in_path(number)
    reward = selectors.rewards_on_offer(timezone.now()).filter(pk=payload.reward_id).first()
    if reward is None:
        raise ApiError(
            422,
            _("There is no reward with this id on offer."),
            loc=("body", "reward_id"),
            type="rejected",
        )
    try:
        redemption = services.redeem_reward(member=member, reward=reward, source="api")
    except services.LoyaltyError as refused:
        errors = from_service(refused, rename={"reward": "reward_id", "points": "reward_id"})
        raise ApiError(422, "", errors=errors) from None
    member.refresh_from_db(fields=["points_balance", "credit_cents"])
    coupon = getattr(redemption, "coupon", None)
    body = {
        "id": redemption.pk,
        "customer_number": member.customer.number,
        "reward": reward.name,
        "points": redemption.points,
        "balance": member.points_balance,
        "coupon": _open_coupon(coupon) if coupon else None,
        "detail_code": (coupon.detail_code or None) if coupon else None,
        "credit_cents": member.credit_cents,
    }
    return Status(201, body)


@router.get(
    "/members/{number}",
    response={200: BalanceOut, **errors_for(404)},
    summary="A member's points, store credit and open coupons (for the till)",
)
def member_balance(request, number: Text):
    member = _member_in_path(number)
    coupons = selectors.open_coupons(member, timezone.now())
    state = tier_selectors.member_tier(member)
    return {
        "customer_number": member.customer.number,
        "display_number": member.customer.display_number,
        "point_name": selectors.program_settings().point_name,
        "points": member.points_balance,
        "pending_points": member.pending_points,
        "credit_cents": member.credit_cents,
        "tier": state.tier.name if state and state.tier else None,
        "coupons": [_open_coupon(c) for c in coupons],
    }
