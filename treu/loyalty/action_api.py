"""Actions that earn points, reported by shops, tills and portals (mounted at
/api/v1/loyalty, `write` scope).

`POST /actions`: a customer wrote a review, answered a survey, confirmed the newsletter,
followed the shop on a network, or did something the owner made a custom rule for. 201 with
the points when a rule awarded, 200 with the reason (and a German message) when nothing was
due; 422 for a request that cannot be taken as it is.
"""

from __future__ import annotations

from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import model_validator

from treu.api.errors import ApiError, from_service
from treu.api.schemas import Status, StrictSchema, Text, errors_for
from treu.customers import selectors as customer_selectors
from treu.customers.models import Customer
from treu.loyalty import selectors, services
from treu.loyalty.models import SocialNetwork

router = Router(tags=["loyalty"])

Action = Literal["review", "survey", "newsletter", "social", "custom"]
Network = Literal[tuple(SocialNetwork.values)]  # type: ignore[valid-type]


class CustomerRef(StrictSchema):
    """The customer: by treu's customer number, by email, or by the shop's own id."""

    number: Annotated[int, Field(strict=True, ge=1, le=10**15)] | None = Field(
        None, description="treu's customer number"
    )
    email: Annotated[Text, Field(min_length=3, max_length=254)] | None = None
    shop: Annotated[Text, Field(min_length=1, max_length=50)] | None = Field(
        None, description="The shop's code in treu, with external_id"
    )
    external_id: Annotated[Text, Field(min_length=1, max_length=128)] | None = Field(
        None, description="The shop's id of the customer, with shop"
    )

    @model_validator(mode="after")
    def _one_way(self):
        ways = [self.number is not None, self.email is not None, self.external_id is not None]
        if sum(ways) != 1 or (self.external_id is None) != (self.shop is None):
            raise ValueError(_("Name the customer by number, email, or shop and external_id."))
        return self


class ActionIn(StrictSchema):
    customer: CustomerRef
    action: Action
    network: Network | None = Field(None, description="Social media: the network")
    event: Annotated[Text, Field(min_length=1, max_length=50)] | None = Field(
        None, description="Custom: the event's name as the rule has it, e.g. workshop_besucht"
    )
    reference: Annotated[Text, Field(min_length=1, max_length=60)] | None = Field(
        None,
        description=(
            "What the action was, unique per action: the review's or survey's id, a booking "
            "number … (not needed for social media: the network is the reference). The same "
            "reference again earns nothing more."
        ),
    )


class AwardOut(Schema):
    rule_id: int
    rule: str
    points: int


class ActionOut(Schema):
    customer_number: int
    action: str
    points: int = Field(description="Awarded now (0: nothing was due)")
    awards: list[AwardOut] = Field(description="One per rule that awarded")
    balance: int | None = Field(description="The member's available points; null: no member")
    point_name: str
    reason: str | None = Field(
        None,
        description=(
            "Why nothing was due: not_started, not_member, no_rule, not_eligible, "
            "limit_reached or already_recorded"
        ),
    )
    message: str | None = Field(None, description="The reason in German (English on request)")


def _customer(ref: CustomerRef) -> Customer:
    if ref.number is not None:
        customer, loc = customer_selectors.customer_by_number(ref.number), "number"
    elif ref.email is not None:
        customer, loc = customer_selectors.customer_by_email(ref.email), "email"
    else:
        customer = customer_selectors.customer_by_external_id(
            shop_code=ref.shop or "", external_id=ref.external_id or ""
        )
        loc = "external_id"
    if customer is None or customer.erased_at:
        raise ApiError(
            422, _("There is no such customer."), loc=("body", "customer", loc), type="rejected"
        )
    return customer


@router.post(
    "/actions",
    response={200: ActionOut, 201: ActionOut, **errors_for(422)},
    summary="Report a customer's action that may earn points",
)
def record_action(request, payload: ActionIn):
    """201 with the points when a rule awarded them; 200 with `reason` when nothing was due.

    Send an Idempotency-Key: a retried request then answers the same. The reference makes
    the action itself count once, with or without the key.
    """
    customer = _customer(payload.customer)
    try:
        outcome = services.record_action(
            customer=customer,
            action=payload.action,
            reference=payload.reference or "",
            network=payload.network or "",
            event=payload.event or "",
            source="api",
        )
    except services.LoyaltyError as refused:
        raise ApiError(422, "", errors=from_service(refused)) from None
    member = outcome.member
    if member is not None:
        member.refresh_from_db(fields=["points_balance"])
    body = {
        "customer_number": customer.number,
        "action": payload.action,
        "points": outcome.points,
        "awards": [
            {"rule_id": a.rule.pk, "rule": a.rule.name, "points": a.entry.points}
            for a in outcome.awards
        ],
        "balance": member.points_balance if member is not None else None,
        "point_name": selectors.program_settings().point_name,
        "reason": outcome.reason or None,
        "message": outcome.message or None,
    }
    return Status(201 if outcome.awards else 200, body)
