"""Recording returns: goods coming back and the money refunded."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.commerce.events import ORDER_REFUNDED
from treu.commerce.models import Order, OrderStatus, Return, ReturnLine, ReturnReason
from treu.commerce.services.orders import OrderRejected
from treu.commerce.services.summaries import refresh_customer_summary
from treu.core import events


@dataclass(frozen=True)
class ReturnLineInput:
    order_line_id: int
    quantity: int
    amount_cents: int | None = None  # default: the line's price share for that quantity


@transaction.atomic
def record_return(
    order: Order,
    *,
    lines: list[ReturnLineInput],
    reason: str = ReturnReason.OTHER,
    comment: str = "",
    shipping_refund_cents: int = 0,
    other_refund_cents: int = 0,
    refunded_at: datetime | None = None,
    external_id: str = "",
    source: str = "",
) -> Return:
    """Record goods coming back and the money refunded; exactly once per external id."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if external_id:
        existing = order.returns.filter(external_id=external_id).first()
        if existing is not None:
            return existing
    errors: dict[str, list[str]] = defaultdict(list)
    if order.status == OrderStatus.CANCELLED:
        errors["order"].append(_("The order was cancelled; there is nothing to return."))
    if reason not in ReturnReason.values:
        errors["reason"].append(_("Unknown return reason."))
    if not lines and shipping_refund_cents <= 0 and other_refund_cents <= 0:
        errors["lines"].append(_("Choose at least one item or refund shipping."))
    if shipping_refund_cents < 0:
        errors["shipping_refund_cents"].append(_("Amounts must not be negative."))
    if other_refund_cents < 0:
        errors["other_refund_cents"].append(_("Amounts must not be negative."))
    order_lines = {line.pk: line for line in order.lines.all()}
    already = dict(
        ReturnLine.objects.filter(order_line__order=order)
        .values("order_line")
        .annotate(q=Sum("quantity"))
        .values_list("order_line", "q")
    )
    built: list[ReturnLine] = []
    for i, item in enumerate(lines, start=1):
        line = order_lines.get(item.order_line_id)
        where = f"lines.{i}"
        if line is None:
            errors[where].append(_("Item %(n)d is not part of this order.") % {"n": i})
            continue
        left = line.quantity - already.get(line.pk, 0)
        if item.quantity <= 0:
            errors[where].append(_("Item %(n)d: the quantity must be at least 1.") % {"n": i})
            continue
        if item.quantity > left:
            errors[where].append(
                _("Item %(n)d: only %(left)d of %(title)s can still be returned.")
                % {"n": i, "left": left, "title": line.title}
            )
            continue
        amount = item.amount_cents
        if amount is None:
            amount = line.total_cents * item.quantity // line.quantity
        if not 0 <= amount <= line.total_cents:
            errors[where].append(_("Item %(n)d: the refund exceeds what was paid.") % {"n": i})
            continue
        built.append(ReturnLine(order_line=line, quantity=item.quantity, amount_cents=amount))
    total = (
        sum(r.amount_cents for r in built)
        + max(shipping_refund_cents, 0)
        + max(other_refund_cents, 0)
    )
    if not errors and total <= 0:
        errors["lines"].append(_("The refund amount is zero."))
    if not errors and order.refunded_cents + total > order.total_cents:
        errors["lines"].append(_("The refunds would exceed the order total."))
    if errors:
        raise OrderRejected(dict(errors))

    record = Return.objects.create(
        order=order,
        external_id=external_id,
        reason=reason,
        comment=comment.strip(),
        shipping_refund_cents=shipping_refund_cents,
        other_refund_cents=other_refund_cents,
        amount_cents=total,
        refunded_at=refunded_at or timezone.now(),
    )
    for r in built:
        r.return_record = record
    ReturnLine.objects.bulk_create(built)
    Order.objects.filter(pk=order.pk).update(refunded_cents=F("refunded_cents") + total)
    events.publish(
        ORDER_REFUNDED,
        customer=order.customer,
        payload={
            "order_id": order.pk,
            "number": order.number,
            "return_id": record.pk,
            "amount_cents": total,
            "reason": reason,
            "lines": [{"order_line_id": r.order_line_id, "quantity": r.quantity} for r in built],
        },
        source=source,
        occurred_at=record.refunded_at,
    )
    refresh_customer_summary(order.customer_id)
    return record
