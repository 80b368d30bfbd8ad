"""The referral part of the checkout API (mounted at /api/v1/checkout/referrals).

A shop tells treu that a friend came with a member's referral code, at checkout or when
the friend opens an account; treu answers with the friend's welcome coupon (or says the
referral waits for review). A shop's account page shows a member their code and link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import model_validator

from treu.api.errors import ApiError, from_service
from treu.api.schemas import Status, StrictSchema, Text, errors_for
from treu.loyalty import referral_selectors, services
from treu.loyalty.api import _customer, _member_in_path
from treu.loyalty.models import Referral

router = Router(tags=["checkout"])


class NewFriend(StrictSchema):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    first_name: Annotated[str, Field(max_length=150)] = ""
    last_name: Annotated[str, Field(max_length=150)] = ""


class ReferralIn(StrictSchema):
    code: Annotated[
        str,
        Field(
            min_length=1, max_length=40, description="The advocate's code, as the friend typed it"
        ),
    ]
    customer_number: Annotated[int, Field(strict=True, ge=1, le=10**15)] | None = Field(
        None, description="The friend, if the shop knows their treu number"
    )
    customer: NewFriend | None = Field(
        None, description="Or the friend by email: found, or created as a new customer"
    )
    ip: Annotated[str, Field(max_length=45)] = Field(
        "", description="The friend's IP address; treu keeps only a hash of its network"
    )
    payment_name: Annotated[str, Field(max_length=200)] = Field(
        "", description="The name on the friend's payment, checked and not stored"
    )

    @model_validator(mode="after")
    def _one_friend(self):
        if (self.customer_number is None) == (self.customer is None):
            raise ValueError(_("Send either customer_number or customer."))
        return self


class WelcomeCoupon(Schema):
    code: str
    amount_cents: int
    expires_at: datetime


class ReferralOut(Schema):
    id: int
    status: str = Field(description="pending (waiting for the first order) or review")
    customer_number: int = Field(description="The friend")
    coupon: WelcomeCoupon | None = Field(
        None, description="The friend's welcome discount; none while the referral is reviewed"
    )


class ReferralCodeOut(Schema):
    customer_number: int
    code: str
    url: str = Field(description="The link to share: it shows the friend the welcome discount")
    referrals: int = Field(description="Friends referred so far")
    rewarded: int = Field(description="Of them, rewarded")


def _out(referral: Referral) -> dict:
    coupon = referral.coupon
    return {
        "id": referral.pk,
        "status": referral.status,
        "customer_number": referral.friend.number,
        "coupon": (
            {
                "code": coupon.code,
                "amount_cents": coupon.amount_cents,
                "expires_at": coupon.expires_at,
            }
            if coupon is not None
            else None
        ),
    }


@router.post(
    "",
    response={200: ReferralOut, 201: ReferralOut, **errors_for(422)},
    summary="Record a friend referred with a member's code",
)
def record_referral(request, payload: ReferralIn):
    """201 when recorded now, 200 when this friend was already referred with this code.

    Refused with a stable `type`: unknown, inactive, self_referral, already_referred.
    """
    try:
        if payload.customer is not None:
            referral, created = services.record_referral_of_new_customer(
                code=payload.code,
                email=payload.customer.email,
                first_name=payload.customer.first_name,
                last_name=payload.customer.last_name,
                ip=payload.ip,
                payment_name=payload.payment_name,
                source="api",
            )
        else:
            friend = _customer(payload.customer_number, ("body", "customer_number"))
            referral, created = services.record_referral(
                code=payload.code,
                friend=friend,
                ip=payload.ip,
                payment_name=payload.payment_name,
                source="api",
            )
    except services.ReferralRefused as refused:
        field = next(iter(refused.message_dict))
        loc = ("body", "code" if field == "code" else "customer_number")
        raise ApiError(422, refused.messages[0], loc=loc, type=refused.reason) from None
    except ValidationError as refused:  # the new customer's email
        raise ApiError(422, "", errors=from_service(refused, prefix=("body", "customer"))) from None
    referral = referral_selectors.referral_list().get(pk=referral.pk)
    return Status(201 if created else 200, _out(referral))


@router.get(
    "/members/{number}",
    response={200: ReferralCodeOut, **errors_for(404)},
    summary="A member's referral code and link (for the shop's account page)",
)
def member_code(request, number: Text):
    member = _member_in_path(number)
    found = services.referral_code_for(member=member)
    referred, rewarded = referral_selectors.referral_counts(member)
    return {
        "customer_number": member.customer.number,
        "code": found.code,
        "url": request.build_absolute_uri(reverse("loyalty:referral_landing", args=[found.code])),
        "referrals": referred,
        "rewarded": rewarded,
    }
