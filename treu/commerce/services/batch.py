"""Taking many orders in at once, set-based, with the same outcome as `ingest_order` per item."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from operator import itemgetter

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from treu.commerce.events import ORDER_CANCELLED, ORDER_INGESTED, ORDER_UPDATED
from treu.commerce.models import Order, OrderLine, OrderStatus, Product, Return
from treu.commerce.services.orders import (
    _HEADER_FIELDS,
    IngestResult,
    OrderInput,
    OrderRejected,
    _header,
    _line_key,
    _line_tax,
    _payload,
    _returned_goods_message,
    _unknown_customer_message,
    ingest_order,
    validate_order,
)
from treu.commerce.services.summaries import add_to_customer_summaries, refresh_customer_summaries
from treu.core import events
from treu.core.bulk import from_rows, insert_rows, update_rows
from treu.customers import selectors as customer_selectors

log = logging.getLogger(__name__)

# The columns of a new order, in the order `_OrderBatch._create` builds its rows.
_ORDER_COLUMNS = ("created_at", "updated_at", "shop_id", "external_id", "refunded_cents",
                  *_HEADER_FIELDS)  # fmt: skip
_LINE_COLUMNS = (
    "order_id", "product_id", "external_id", "sku", "title", "quantity", "unit_price_cents",
    "discount_cents", "total_cents", "tax_rate_bp", "tax_cents",
)  # fmt: skip


_header_values = itemgetter(*_HEADER_FIELDS)


def ingest_orders(batch: list[OrderInput]) -> list[IngestResult | OrderRejected]:
    """Ingest many orders; the answer lists, in input order, each one's result or refusal.

    A refused order (OrderRejected) writes nothing and does not stop the others.
    Same semantics as `ingest_order` for each item in turn, including replays, stale
    versions and the same order twice in one batch (the later one updates the earlier).
    Set-based: one transaction, a fixed number of queries for a batch of any size; new
    orders, lines and events are written from plain tuples by `core.bulk.insert_rows`
    (COPY on PostgreSQL), not from model instances.
    """
    results: list[IngestResult | OrderRejected | None] = [None] * len(batch)
    valid: list[tuple[int, OrderInput]] = []
    now = timezone.now()
    for i, data in enumerate(batch):
        errors = validate_order(data, now=now)
        if errors:
            results[i] = OrderRejected(errors)
        else:
            valid.append((i, data))
    if valid:
        try:
            with transaction.atomic():
                _OrderBatch(results).run(valid)
        except IntegrityError:
            # A concurrent writer created one of these orders meanwhile: the batch rolled
            # back (with its events); the one-by-one path sees their row and updates it.
            log.warning("Order batch collided with a concurrent write; retrying one by one.")
            return _ingest_orders_one_by_one(batch)
    return results  # type: ignore[return-value]


def _ingest_orders_one_by_one(batch: list[OrderInput]) -> list[IngestResult | OrderRejected]:
    """The reference meaning of a batch: `ingest_order` per item, each in its own transaction."""
    results: list[IngestResult | OrderRejected] = []
    for data in batch:
        try:
            results.append(ingest_order(data))
        except OrderRejected as rejected:
            results.append(rejected)
    return results


def _order_key(data: OrderInput) -> tuple[int, str]:
    return (data.shop.pk, data.external_id)


@dataclass
class _New:
    index: int
    data: OrderInput
    header: dict


@dataclass
class _Change:
    index: int
    data: OrderInput
    order: Order
    header: dict  # only the fields that changed
    lines: bool  # whether the lines changed

    @property
    def touches_goods(self) -> bool:
        return self.lines or "total_cents" in self.header


class _OrderBatch:
    """ingest_order for many orders at once, with the same outcome per item.

    The items are taken in rounds: the first appearance of every order, then the second
    (an update of the first), and so on, so within a round every order is distinct and
    can be read, compared and written in bulk. Customer figures are refreshed once.
    """

    def __init__(self, results: list) -> None:
        self.results = results
        self.events: list[events.NewEvent] = []
        # Customers whose figures an update touched: recomputed from their orders.
        self.affected_customers: set[int] = set()
        # Customers who only got new orders: those are added to their stored figures.
        self.grown_customers: dict[int, list[Order]] = defaultdict(list)
        self.known_customers: set[int] = set()
        self.products: dict[str, int] = {}

    def run(self, valid: list[tuple[int, OrderInput]]) -> None:
        rounds: list[list[tuple[int, OrderInput]]] = []
        seen: Counter[tuple[int, str]] = Counter()
        for i, data in valid:
            n = seen[_order_key(data)]
            seen[_order_key(data)] += 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append((i, data))
        self.known_customers = customer_selectors.existing_customer_ids(
            data.customer_id for _i, data in valid if data.customer_id is not None
        )
        for items in rounds:
            self._round(items)
        events.publish_many(self.events)
        refresh_customer_summaries(self.affected_customers)
        add_to_customer_summaries(
            {
                customer_id: orders
                for customer_id, orders in self.grown_customers.items()
                if customer_id not in self.affected_customers
            }
        )

    def _refuse_unknown_customer(self, i: int, data: OrderInput) -> bool:
        if data.customer_id is None or data.customer_id in self.known_customers:
            return False
        self.results[i] = OrderRejected(_unknown_customer_message())
        return True

    def _round(self, items: list[tuple[int, OrderInput]]) -> None:
        existing = self._existing(items)
        current_lines = self._current_lines(existing.values())
        new: list[_New] = []
        changed: list[_Change] = []
        for i, data in items:
            header = _header(data)
            order = existing.get(_order_key(data))
            if order is None:
                if not self._refuse_unknown_customer(i, data):
                    new.append(_New(i, data, header))
                continue
            if (
                order.source_updated_at is not None
                and data.source_updated_at is not None
                and data.source_updated_at < order.source_updated_at
            ):
                self.results[i] = IngestResult(
                    order=order, created=False, changed=False, stale=True
                )
                continue
            changed_header = {k: v for k, v in header.items() if getattr(order, k) != v}
            lines_changed = current_lines[order.pk] != [_line_key(x) for x in data.lines]
            if not changed_header and not lines_changed:
                self.results[i] = IngestResult(order=order, created=False, changed=False)
                continue
            changed.append(_Change(i, data, order, changed_header, lines_changed))
        changed = self._refuse_changes_to_returned_goods(changed)
        changed = [c for c in changed if not self._refuse_unknown_customer(c.index, c.data)]
        self._resolve_products([n.data for n in new] + [c.data for c in changed if c.lines])
        # Events in input order, as the one-by-one path would write them.
        round_events = sorted([*self._create(new), *self._update(changed)], key=lambda p: p[0])
        self.events += [event for _i, event in round_events]

    def _existing(self, items: list[tuple[int, OrderInput]]) -> dict[tuple[int, str], Order]:
        ids_by_shop: dict[int, list[str]] = defaultdict(list)
        for _i, data in items:
            ids_by_shop[data.shop.pk].append(data.external_id)
        wanted = Q()
        for shop_id, external_ids in ids_by_shop.items():
            wanted |= Q(shop_id=shop_id, external_id__any_of=external_ids)
        return {
            (order.shop_id, order.external_id): order
            for order in Order.objects.select_for_update().filter(wanted).order_by()
        }

    @staticmethod
    def _current_lines(orders) -> dict[int, list[tuple]]:
        lines: dict[int, list[tuple]] = defaultdict(list)
        order_ids = [order.pk for order in orders]
        if not order_ids:
            return lines
        rows = (
            OrderLine.objects.filter(order_id__any_of=order_ids)
            .order_by("order_id", "id")
            .values_list(
                "order_id", "external_id", "sku", "title", "quantity", "unit_price_cents",
                "discount_cents",
            )
        )  # fmt: skip
        for order_id, external_id, sku, title, *rest in rows:
            lines[order_id].append((external_id, sku, title.strip()[:200], *rest))
        return lines

    def _refuse_changes_to_returned_goods(self, changed: list[_Change]) -> list[_Change]:
        at_risk = [c.order.pk for c in changed if c.touches_goods]
        if not at_risk:
            return changed
        returned = set(
            Return.objects.filter(order_id__any_of=at_risk).values_list("order_id", flat=True)
        )
        kept = []
        for c in changed:
            if c.touches_goods and c.order.pk in returned:
                self.results[c.index] = OrderRejected(_returned_goods_message())
            else:
                kept.append(c)
        return kept

    def _resolve_products(self, orders: list[OrderInput]) -> None:
        skus = {line.sku for data in orders for line in data.lines if line.sku} - set(self.products)
        if skus:
            self.products.update(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))

    def _line_rows(self, order_id: int, data: OrderInput) -> list[tuple]:
        products = self.products
        return [
            (
                order_id,
                products.get(line.sku) if line.sku else None,
                line.external_id,
                line.sku,
                line.title.strip()[:200],
                line.quantity,
                line.unit_price_cents,
                line.discount_cents,
                line.total_cents,
                line.tax_rate_bp,
                _line_tax(line),
            )
            for line in data.lines
        ]

    def _create(self, new: list[_New]) -> list[tuple[int, events.NewEvent]]:
        """Insert new orders and their lines from plain tuples (see `insert_rows`)."""
        if not new:
            return []
        now = timezone.now()
        rows = [
            (now, now, n.data.shop.pk, n.data.external_id, 0, *_header_values(n.header))
            for n in new
        ]
        ids = insert_rows(Order, _ORDER_COLUMNS, rows)
        orders = from_rows(Order, _ORDER_COLUMNS, rows, ids)
        lines: list[tuple] = []
        created_events = []
        for n, order in zip(new, orders, strict=True):
            i, data = n.index, n.data
            order._state.fields_cache["shop"] = data.shop
            lines += self._line_rows(order.pk, data)
            item_count = sum(line.quantity for line in data.lines)
            created_events.append(
                (
                    i,
                    events.NewEvent(
                        kind=ORDER_INGESTED,
                        customer_id=order.customer_id,
                        payload=_payload(order, item_count),
                        source=data.source,
                        occurred_at=order.placed_at,
                    ),
                )
            )
            self.results[i] = IngestResult(order=order, created=True, changed=True)
            if order.customer_id is not None and order.status != OrderStatus.CANCELLED:
                self.grown_customers[order.customer_id].append(order)
        insert_rows(OrderLine, _LINE_COLUMNS, lines, return_ids=False)
        return created_events

    def _update(self, changed: list[_Change]) -> list[tuple[int, events.NewEvent]]:
        if not changed:
            return []
        now = timezone.now()
        updated_events = []
        for c in changed:
            i, data, order, changed_header = c.index, c.data, c.order, c.header
            order.shop = data.shop  # the same shop (it is part of the key): no query for its name
            if order.customer_id is not None:
                self.affected_customers.add(order.customer_id)  # the previous owner
            for name, value in changed_header.items():
                setattr(order, name, value)
            order.updated_at = now
            if order.customer_id is not None:
                self.affected_customers.add(order.customer_id)
            kind = (
                ORDER_CANCELLED
                if changed_header.get("status") == OrderStatus.CANCELLED
                else ORDER_UPDATED
            )
            item_count = sum(line.quantity for line in data.lines)
            updated_events.append(
                (
                    i,
                    events.NewEvent(
                        kind=kind,
                        customer_id=order.customer_id,
                        payload=_payload(order, item_count),
                        source=data.source,
                    ),
                )
            )
            self.results[i] = IngestResult(order=order, created=False, changed=True)
        update_rows(Order, [c.order for c in changed], [*_HEADER_FIELDS, "updated_at"])
        relined = [c for c in changed if c.lines]
        if relined:
            OrderLine.objects.filter(order_id__in=[c.order.pk for c in relined]).delete()
            insert_rows(
                OrderLine,
                _LINE_COLUMNS,
                [row for c in relined for row in self._line_rows(c.order.pk, c.data)],
                return_ids=False,
            )
        return updated_events
