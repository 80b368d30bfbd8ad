"""What loyalty does when commerce reports something. Handlers are idempotent."""

from __future__ import annotations

from treu.commerce import selectors as commerce_selectors
from treu.commerce.events import ORDER_CANCELLED, ORDER_INGESTED, ORDER_REFUNDED, ORDER_UPDATED
from treu.core.events import subscribe, subscribe_batch
from treu.loyalty import services
from treu.loyalty.events import POINTS_CHANGED
from treu.loyalty.models import ActionTrigger, TierBasis


@subscribe_batch(ORDER_INGESTED)
def award_points_for_orders(batch) -> None:
    # A whole ingest_orders() batch in one call: a fixed number of queries for 1,000 orders.
    services.award_points_for_orders([event.payload["order_id"] for event in batch])


@subscribe(ORDER_CANCELLED)
def take_back_points_of_cancelled_order(event) -> None:
    order_id = event.payload["order_id"]
    services.settle_order_points(order_id, cause=f"cancel:{order_id}")


@subscribe(ORDER_REFUNDED)
def take_back_points_of_returned_goods(event) -> None:
    p = event.payload
    services.settle_order_points(p["order_id"], cause=f"return:{p.get('return_id', event.pk)}")


@subscribe_batch(ORDER_UPDATED)
def follow_order_changes(batch) -> None:
    # Batch updates (a nightly status sync) cost two queries unless points must move.
    services.follow_order_changes({e.payload["order_id"]: f"update:{e.pk}" for e in batch})


@subscribe(ORDER_CANCELLED)
def give_back_coupons_and_credit_of_cancelled_order(event) -> None:
    # The checkout recorded the shop's code and order id; a cancelled order gives back
    # the coupons and store credit it used (idempotent: only unreleased uses move).
    order = commerce_selectors.order_detail(event.payload["order_id"])
    services.release_order_rewards(shop=order.shop.code, order_external_id=order.external_id)


# Stamp cards: their own handlers, so a failing stamp card never costs a member points.
@subscribe_batch(ORDER_INGESTED)
def award_stamps_for_orders(batch) -> None:
    services.award_stamps_for_orders([event.payload["order_id"] for event in batch])


@subscribe(ORDER_CANCELLED)
def take_back_stamps_of_cancelled_order(event) -> None:
    order_id = event.payload["order_id"]
    services.settle_order_stamps(order_id, cause=f"cancel:{order_id}")


@subscribe(ORDER_REFUNDED)
def take_back_stamps_of_returned_goods(event) -> None:
    p = event.payload
    services.settle_order_stamps(p["order_id"], cause=f"return:{p.get('return_id', event.pk)}")


@subscribe_batch(ORDER_UPDATED)
def follow_order_changes_for_stamps(batch) -> None:
    services.follow_order_stamp_changes({e.payload["order_id"]: f"update:{e.pk}" for e in batch})


@subscribe_batch(ORDER_INGESTED)
def upgrade_tiers_after_orders(batch) -> None:
    # Upgrades happen at once. Tiers by spend: every order counts, also one that earns no
    # points; registered after the award, so the order itself earns at the member's old rate.
    customers = {event.customer_id for event in batch}
    services.upgrade_tiers_after(basis=TierBasis.SPEND, customer_ids=customers - {None})


@subscribe_batch(POINTS_CHANGED)
def upgrade_tiers_after_points(batch) -> None:
    # Tiers by points: after an order earned, welcome points, an adjustment …
    members = {event.payload["member_id"] for event in batch}
    services.upgrade_tiers_after(basis=TierBasis.POINTS, member_ids=members)


# Actions other apps report (see docs/architecture.md, *Events loyalty listens to*). The
# apps publishing them come later; loyalty only listens.
REVIEW_PUBLISHED = "review.published"
SURVEY_ANSWERED = "survey.answered"
CONSENT_CONFIRMED = "consent.confirmed"


@subscribe(REVIEW_PUBLISHED)
def award_points_for_review(event) -> None:
    services.record_action_of_event(event, action=ActionTrigger.REVIEW)


@subscribe(SURVEY_ANSWERED)
def award_points_for_survey(event) -> None:
    services.record_action_of_event(event, action=ActionTrigger.SURVEY)


@subscribe(CONSENT_CONFIRMED)
def award_points_for_newsletter(event) -> None:
    # Only the newsletter by email, once its double opt-in is confirmed.
    if event.payload.get("channel") == "email" and event.payload.get("purpose") == "newsletter":
        services.record_action_of_event(event, action=ActionTrigger.NEWSLETTER)
