"""Writes of the connectors app: shop connections, receiving deliveries and applying them.

Receiving is fast and dumb: verify, store the raw delivery, hand it to the worker.
Applying happens in the worker (`process_delivery`), in one transaction per delivery:
it either takes in everything the delivery says or nothing, and notes why on the delivery.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.commerce import selectors as commerce_selectors
from treu.commerce import services as commerce_services
from treu.commerce.models import OrderStatus
from treu.connectors import mapping as m
from treu.connectors.models import (
    PLATFORMS,
    DeliveryStatus,
    InboundDelivery,
    ShopConnection,
    new_secret,
)
from treu.connectors.platforms import platform
from treu.customers import services as customer_services
from treu.customers.models import AddressKind, SourceChannel

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
PAYLOAD_RETENTION_DAYS = 30  # raw bodies of finished deliveries are emptied after this
LOG_RETENTION_DAYS = 180  # the delivery log itself (topic, status, error) goes after this
DONE = (DeliveryStatus.PROCESSED, DeliveryStatus.IGNORED)


class ConnectionRejected(ValidationError):
    """A connection that cannot be created or changed; messages per field."""


# -- Connections (back office) -----------------------------------------------------------------


def _clean_secret(secret: str) -> str:
    secret = secret.strip()
    if secret and len(secret) < 16:
        raise ConnectionRejected({"secret": [_("The secret must be at least 16 characters long.")]})
    return secret or new_secret()


@transaction.atomic
def create_connection(*, code: str, name: str, platform: str, secret: str = "") -> ShopConnection:
    """A new shop of that platform and its connection; the secret is generated when not given."""
    if platform not in PLATFORMS:
        raise ConnectionRejected({"platform": [_("This shop system has no webhooks in treu.")]})
    clean = _clean_secret(secret)
    try:
        shop = commerce_services.create_shop(code=code, name=name, kind=platform)
    except commerce_services.ShopRejected as exc:
        raise ConnectionRejected(exc.message_dict) from None
    return ShopConnection.objects.create(shop=shop, secret=clean)


@transaction.atomic
def connect_shop(*, shop, secret: str = "") -> ShopConnection:
    """Connect an existing shop (created by the demo, an import or the API)."""
    if shop.kind not in PLATFORMS:
        raise ConnectionRejected({"shop": [_("This shop system has no webhooks in treu.")]})
    connection, _created = ShopConnection.objects.get_or_create(
        shop=shop, defaults={"secret": _clean_secret(secret)}
    )
    return connection


@transaction.atomic
def rotate_secret(connection: ShopConnection, *, secret: str = "") -> ShopConnection:
    """Replace the signing secret (generated, or the one the shop system shows)."""
    connection.secret = _clean_secret(secret)
    connection.secret_changed_at = timezone.now()
    connection.save(update_fields=["secret", "secret_changed_at"])
    return connection


@transaction.atomic
def set_active(connection: ShopConnection, *, active: bool) -> ShopConnection:
    connection.active = active
    connection.save(update_fields=["active"])
    return connection


# -- Receiving (the webhook view) --------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    status: int
    answer: dict


def _refuse(status: int, error: str) -> Receipt:
    return Receipt(status, {"ok": False, "error": error})


def receive_delivery(*, connection: ShopConnection, body: bytes, headers) -> Receipt:
    """Verify and store one webhook call and hand it to the worker; never applies it here.

    Unsigned or wrongly signed calls are refused and leave no trace but a log line.
    A delivery id seen before is acknowledged without being taken in again.
    """
    module = platform(connection.platform)
    if len(body) > MAX_BODY_BYTES:
        return _refuse(413, "payload too large")
    if hasattr(module, "is_ping") and module.is_ping(body, headers):
        return Receipt(200, {"ok": True, "ping": True})
    if not module.verify(connection.secret, body, headers):
        log.warning("Webhook for shop %s refused: bad or missing signature", connection.shop.code)
        return _refuse(401, "invalid signature")
    try:
        text = body.decode("utf-8")
        data = json.loads(text)
    except UnicodeDecodeError:
        return _refuse(400, "body is not UTF-8")
    except ValueError:
        return _refuse(400, "body is not JSON")
    topic, delivery_id = module.envelope(headers, data)
    if not topic:
        return _refuse(400, "no topic")
    delivery_id = (delivery_id or "").strip()[:128] or hashlib.sha256(body).hexdigest()
    supported = topic in getattr(module, "TOPICS", ()) or (
        module.NAME == "shopware" and _shopware_event(topic)
    )
    try:
        with transaction.atomic():
            delivery = InboundDelivery.objects.create(
                connection=connection,
                topic=topic[:100],
                delivery_id=delivery_id,
                # Topics treu does not take in are logged without their (personal) payload.
                body=text if supported else "",
                status=DeliveryStatus.RECEIVED if supported else DeliveryStatus.IGNORED,
                result="" if supported else _("Topic not taken in."),
            )
            ShopConnection.objects.filter(pk=connection.pk).update(
                last_received_at=delivery.received_at
            )
            if supported:
                transaction.on_commit(lambda: _enqueue(delivery.pk))
    except IntegrityError:
        return Receipt(200, {"ok": True, "duplicate": True})
    return Receipt(200, {"ok": True, "delivery": delivery.pk})


def _shopware_event(topic: str) -> bool:
    return topic == "checkout.order.placed" or topic.startswith(
        ("state_enter.order", "checkout.customer.")
    )


def _enqueue(delivery_id: int) -> None:
    from treu.connectors.tasks import process_delivery_task

    process_delivery_task(delivery_id)


@transaction.atomic
def retry_delivery(delivery: InboundDelivery) -> InboundDelivery:
    """Hand a failed delivery to the worker once more (from the back office)."""
    if delivery.status == DeliveryStatus.FAILED and delivery.body:
        transaction.on_commit(lambda: _enqueue(delivery.pk))
    return delivery


# -- Applying (the worker) ---------------------------------------------------------------------


@dataclass
class Outcome:
    status: str
    result: str
    customer_id: int | None = None


class _Retry(Exception):
    pass


def _message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(
                f"{name}: {' '.join(msgs)}" if name != "__all__" else " ".join(msgs)
                for name, msgs in exc.message_dict.items()
            )
        return " ".join(exc.messages)
    return str(exc) or exc.__class__.__name__


def process_delivery(*, delivery_id: int) -> InboundDelivery:
    """Apply one stored delivery, exactly once. Refusals are noted on the delivery.

    Raises (after noting the failure) only when trying again later may help, so the
    worker retries: an order that has not arrived yet, a database hiccup.
    """
    try:
        with transaction.atomic():
            delivery = (
                InboundDelivery.objects.select_for_update(of=("self",))
                .select_related("connection__shop")
                .get(pk=delivery_id)
            )
            if delivery.status in DONE:
                return delivery
            outcome = _apply_delivery(delivery)
            _finish(delivery, outcome)
            return delivery
    except (
        m.MappingError,
        ValidationError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
    ) as exc:
        # The payload itself is the problem: trying again would fail the same way.
        _fail(delivery_id, _message(exc))
    except Exception as exc:  # m.NotYet, a database hiccup: the worker tries again
        _fail(delivery_id, _message(exc))
        raise
    return InboundDelivery.objects.get(pk=delivery_id)


def _finish(delivery: InboundDelivery, outcome: Outcome) -> None:
    delivery.status = outcome.status
    delivery.result = outcome.result[:200]
    delivery.error = ""
    delivery.processed_at = timezone.now()
    delivery.attempts = F("attempts") + 1
    delivery.customer_id = outcome.customer_id
    delivery.save(
        update_fields=["status", "result", "error", "processed_at", "attempts", "customer"]
    )


def _fail(delivery_id: int, error: str) -> None:
    log.warning("Webhook delivery %s failed: %s", delivery_id, error)
    InboundDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.FAILED,
        error=error[:2000],
        attempts=F("attempts") + 1,
        processed_at=timezone.now(),
    )


def _apply_delivery(delivery: InboundDelivery) -> Outcome:
    connection = delivery.connection
    module = platform(connection.platform)
    if module is None:
        raise m.MappingError(_("The shop is no longer a webhook shop."))
    data = m.load_json(delivery.body)
    if not isinstance(data, dict):
        raise m.MappingError(_("The payload is not a JSON object."))
    return apply_instruction(connection, module.instruction(connection.shop, delivery.topic, data))


def apply_instruction(connection: ShopConnection, ins: m.Instruction) -> Outcome:
    """Write what a mapped delivery says, through the customers and commerce services."""
    source = connection.platform
    if ins.kind == m.IGNORE:
        return Outcome(DeliveryStatus.IGNORED, ins.note)
    if ins.kind == m.CUSTOMER:
        done = _apply_customer(connection, ins.customer, strict=True)
        note = " ".join(filter(None, [done.note, done.warning])) or _("No customer data.")
        return Outcome(
            DeliveryStatus.PROCESSED if done.customer else DeliveryStatus.IGNORED,
            note,
            done.customer.pk if done.customer else None,
        )
    if ins.kind == m.ORDER:
        return _apply_order(connection, ins)
    order = commerce_selectors.order_by_external_id(connection.shop, ins.order_external_id)
    if ins.kind == m.REFUND:
        if order is None:
            raise m.NotYet(_("The order of this refund has not arrived yet."))
        notes = [_apply_refund(order, refund, source) for refund in ins.refunds]
        return Outcome(DeliveryStatus.PROCESSED, "; ".join(notes), order.customer_id)
    if ins.kind == m.CANCEL:
        if order is None:
            return Outcome(DeliveryStatus.IGNORED, _("Order not known to treu; nothing to cancel."))
        if order.refunded_cents:
            return Outcome(
                DeliveryStatus.IGNORED,
                _("Order %(number)s has refunds; they stay the record.") % {"number": order},
            )
        commerce_services.cancel_order(order, when=ins.cancelled_at, source=source)
        return Outcome(
            DeliveryStatus.PROCESSED,
            _("Order %(number)s cancelled.") % {"number": order},
            order.customer_id,
        )
    raise m.MappingError(f"Unknown instruction {ins.kind!r}")


@dataclass
class _CustomerOutcome:
    customer: object | None = None
    note: str = ""
    warning: str = ""


def _apply_customer(
    connection: ShopConnection, data: m.CustomerData | None, *, strict: bool
) -> _CustomerOutcome:
    """The shop's customer, created or brought up to date.

    For an order (strict=False) a customer that cannot be taken in does not stop the
    order: an email already used by another customer is left out, and a customer
    without name and email makes it a guest order. The warning says so.
    """
    if data is None or not (data.external_id or data.email):
        return _CustomerOutcome()
    kwargs = {
        "shop": connection.shop,
        "external_id": data.external_id,
        "source_channel": SourceChannel.ONLINE_SHOP,
        "event_source": connection.platform,
        "occurred_at": data.occurred_at,
        "first_name": data.first_name,
        "last_name": data.last_name,
        "phone": data.phone,
    }
    warning = ""
    try:
        with transaction.atomic():
            result = customer_services.upsert_customer(email=data.email, **kwargs)
    except customer_services.CustomerError as exc:
        if strict and not data.external_id:
            raise
        try:
            with transaction.atomic():
                result = customer_services.upsert_customer(email=None, **kwargs)
        except customer_services.CustomerError:
            if strict:
                raise exc from None
            why = _message(exc)
            return _CustomerOutcome(
                warning=_("Customer not taken in (%(why)s); guest order.") % {"why": why}
            )
        warning = _("Email not taken over: %(why)s") % {"why": _message(exc)}
    customer = result.customer
    if result.created and data.address:
        try:
            with transaction.atomic():
                customer_services.add_address(
                    customer, kind=AddressKind.BILLING, is_default=True, **data.address
                )
        except ValidationError as exc:
            warning = _("Address not taken in: %(why)s") % {"why": _message(exc)}
    if result.created:
        note = _("Customer %(number)s created.")
    elif result.changed:
        note = _("Customer %(number)s updated.")
    else:
        note = _("Customer %(number)s unchanged.")
    return _CustomerOutcome(customer, note % {"number": customer.number}, warning)


def _apply_order(connection: ShopConnection, ins: m.Instruction) -> Outcome:
    data = ins.order
    existing = commerce_selectors.order_by_external_id(connection.shop, data.external_id)
    refunds = [r for r in ins.refunds if r.lines or r.shipping_cents > 0 or r.other_cents > 0]
    has_refunds = bool(refunds) or bool(existing and existing.refunded_cents)
    status = data.status
    if ins.cancelled and not has_refunds:
        status = OrderStatus.CANCELLED
    elif status == OrderStatus.CANCELLED and has_refunds:
        # A cancelled order whose money went back: treu keeps it as refunded, so the
        # refunds stay recorded (a cancelled order cannot hold returns).
        status = OrderStatus.PAID
    buyer = _apply_customer(connection, ins.customer, strict=False)
    customer = buyer.customer
    data = replace(
        data,
        status=status,
        cancelled_at=(ins.cancelled_at or data.cancelled_at or timezone.now())
        if status == OrderStatus.CANCELLED
        else None,
        customer_id=customer.pk if customer else None,
    )
    result = commerce_services.ingest_order(data)
    order = result.order
    if result.stale:
        note = _("Order %(number)s: older version ignored.")
    elif result.created:
        note = _("Order %(number)s created.")
    elif result.changed:
        note = _("Order %(number)s updated.")
    else:
        note = _("Order %(number)s unchanged.")
    notes = [note % {"number": order.number}]
    if refunds and order.status != OrderStatus.CANCELLED:
        notes.extend(_apply_refund(order, refund, connection.platform) for refund in refunds)
    if buyer.warning:
        notes.append(buyer.warning)
    return Outcome(DeliveryStatus.PROCESSED, " ".join(notes), order.customer_id)


def _apply_refund(order, refund: m.RefundData, source: str) -> str:
    by_external = {line.external_id: line for line in order.lines.all() if line.external_id}
    items = []
    for item in refund.lines:
        line = by_external.get(item.line_external_id)
        if line is None:
            raise m.MappingError(
                _("Refund %(refund)s names line %(line)s, which order %(number)s does not have.")
                % {"refund": refund.external_id, "line": item.line_external_id, "number": order}
            )
        items.append(
            commerce_services.ReturnLineInput(
                order_line_id=line.pk, quantity=item.quantity, amount_cents=item.amount_cents
            )
        )
    record = commerce_services.record_return(
        order,
        lines=items,
        comment=refund.comment,
        shipping_refund_cents=refund.shipping_cents,
        other_refund_cents=refund.other_cents,
        refunded_at=refund.refunded_at,
        external_id=refund.external_id,
        source=source,
    )
    return _("Refund %(refund)s recorded (%(cents)s cents).") % {
        "refund": refund.external_id or record.pk,
        "cents": record.amount_cents,
    }


# -- Retention and erasure ---------------------------------------------------------------------


@transaction.atomic
def prune_deliveries(*, now: datetime | None = None) -> tuple[int, int]:
    """Empty old payloads, delete old log rows; returns (payloads emptied, rows deleted)."""
    now = now or timezone.now()
    emptied = (
        InboundDelivery.objects.filter(received_at__lt=now - timedelta(days=PAYLOAD_RETENTION_DAYS))
        .exclude(body="")
        .update(body="")
    )
    deleted, _rows = InboundDelivery.objects.filter(
        received_at__lt=now - timedelta(days=LOG_RETENTION_DAYS)
    ).delete()
    return emptied, deleted


def deliveries_about(customer) -> Q:
    """Deliveries naming this customer: linked when applied, or carrying their email."""
    query = Q(customer_id=customer.pk)
    if customer.email:
        query |= Q(body__icontains=customer.email)
    return query


@transaction.atomic
def erase_deliveries_of(customer) -> int:
    return InboundDelivery.objects.filter(deliveries_about(customer)).delete()[0]
