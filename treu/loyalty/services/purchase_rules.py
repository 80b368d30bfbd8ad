"""Earning rules for purchases: keeping them, applying them to a batch of orders, and
judging what a cancelled or returned order still deserves by them.

The award (`purchases._award`) asks a `RuleBook` per batch: one query when no rule runs,
a fixed number otherwise. The arithmetic is `points.order_points` (rules join the purchase
points' rounding, once per order). A rule's points are ledger rows of their own, on the line
they come from (key `earn:rule:<rule>:line:<line>`) or, per order, on the order
(`earn:rule:<rule>:order:<order>`), with `source_rule` = `purchase_rule:<id>` and the rule's
name as reason. Limits (once / once a year) are counted from `PurchaseRuleUse` under the
member's lock. See docs/loyalty.md, *Earning rules*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from treu.commerce import selectors as commerce_selectors
from treu.loyalty.models import (
    RULE_TAG_PREFIX,
    EntryKind,
    MemberTier,
    PurchaseRule,
    PurchaseRuleKind,
    PurchaseRuleUse,
    RuleLimit,
)
from treu.loyalty.points import Bonus, Line, OrderPoints, paid_amounts, returned_share
from treu.loyalty.services.ledger import ORDER_CHANGED, RETURN, LoyaltyError, NewEntry
from treu.loyalty.services.stamps import clean_skus

if TYPE_CHECKING:
    from treu.commerce.models import Order
    from treu.commerce.selectors import LineFigures, OrderFigures
    from treu.loyalty.models import Member, PointsEntry, ProgramSettings

# The cause of a reversal when a return leaves an order below a rule's minimum (or without
# the goods the rule counts): the rule's points go back whole.
RULE_UNMET = "rule_unmet"

PURCHASE_RULE_FIELDS = (
    "name", "active", "starts_on", "ends_on", "limit", "eligible_tiers", "kind",
    "points_per_euro", "points", "multiplier", "skus", "categories", "min_order_cents",
)  # fmt: skip
# What a rule gives: fixed once it has given points (see PurchaseRule).
FIXED_ONCE_USED = (
    "kind", "points_per_euro", "points", "multiplier", "skus", "categories",
    "min_order_cents", "limit",
)  # fmt: skip
VALUE_FIELD = {
    PurchaseRuleKind.PER_EURO: "points_per_euro",
    PurchaseRuleKind.PER_ITEM: "points",
    PurchaseRuleKind.PER_ORDER: "points",
    PurchaseRuleKind.MULTIPLIER: "multiplier",
}


def rule_id_of(source_rule: str) -> int | None:
    """The rule id of a bonus row's `source_rule` ("purchase_rule:17" -> 17), else None."""
    if source_rule.startswith(RULE_TAG_PREFIX):
        return int(source_rule[len(RULE_TAG_PREFIX) :])
    return None


# -- Keeping rules -----------------------------------------------------------------------------


@transaction.atomic
def save_purchase_rule(*, rule: PurchaseRule | None = None, **fields: Any) -> PurchaseRule:
    """Create or change a purchase rule; refuses (writing nothing) with German messages.

    A rule that has given points keeps what it gives (`FIXED_ONCE_USED`); name, window,
    tiers and the active flag can still change.
    """
    unknown = set(fields) - set(PURCHASE_RULE_FIELDS)
    if unknown:
        raise TypeError(f"Not a purchase rule field: {sorted(unknown)}")
    if rule is not None:
        rule = PurchaseRule.objects.select_for_update().get(pk=rule.pk)
    target = rule or PurchaseRule()
    tiers = fields.pop("eligible_tiers", None)
    categories = fields.pop("categories", None)
    errors: dict[str, list[str]] = defaultdict(list)
    before = _gives(target) if target.pk else None
    for name, value in fields.items():
        setattr(target, name, value.strip() if isinstance(value, str) else value)
    target.skus = clean_skus(target.skus or [])
    category_ids = (
        sorted({getattr(c, "pk", c) for c in categories})
        if categories is not None
        else sorted(target.categories.values_list("pk", flat=True))
        if target.pk
        else []
    )
    _check_value(target, errors)
    _check_scope(target, category_ids, errors)
    if target.min_order_cents is None or target.min_order_cents < 0:
        errors["min_order_cents"].append(_("The minimum order value cannot be negative."))
    if target.starts_on and target.ends_on and target.ends_on < target.starts_on:
        errors["ends_on"].append(_("The end lies before the start."))
    try:
        target.full_clean(
            exclude=["points_per_euro", "points", "multiplier", "min_order_cents"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors[name].extend(messages)
    if before is not None and target.first_awarded_at is not None:
        after = _gives(target, category_ids)
        changed = [name for name in FIXED_ONCE_USED if before[name] != after[name]]
        if changed:
            names = [str(PurchaseRule._meta.get_field(name).verbose_name) for name in changed]
            message = _(
                "This rule has already given points, so what it gives can no longer be "
                "changed (%(fields)s). End it and create a new rule."
            )
            errors["__all__"].append(message % {"fields": ", ".join(names)})
    if errors:
        raise LoyaltyError(dict(errors))
    target.save()
    target.categories.set(category_ids)
    if tiers is not None:
        target.eligible_tiers.set(list(tiers))
    return target


def _gives(rule: PurchaseRule, category_ids: list[int] | None = None) -> dict[str, Any]:
    values = {name: getattr(rule, name) for name in FIXED_ONCE_USED if name != "categories"}
    values["skus"] = sorted(rule.skus or [])
    values["categories"] = (
        category_ids
        if category_ids is not None
        else sorted(rule.categories.values_list("pk", flat=True))
    )
    return values


def _check_value(rule: PurchaseRule, errors: dict[str, list[str]]) -> None:
    """The kind's value must be there and sensible; the other kinds' values are emptied."""
    if rule.kind not in PurchaseRuleKind.values:
        errors["kind"].append(_("Choose what the rule gives."))
        return
    used = VALUE_FIELD[rule.kind]
    for name in ("points_per_euro", "points", "multiplier"):
        if name != used:
            setattr(rule, name, None)
    value = getattr(rule, used)
    if used == "points_per_euro" and (value is None or not 0 < value <= 1000):
        errors[used].append(_("Enter the extra points per euro: more than 0, at most 1,000."))
    elif used == "points" and (value is None or not 0 < value <= 1_000_000):
        errors[used].append(_("Enter a whole number of points between 1 and 1,000,000."))
    elif used == "multiplier" and (value is None or not 1 < value <= 10):
        errors[used].append(
            _("A multiplier must be more than 1 and at most 10 (2 doubles the points).")
        )


def _check_scope(rule: PurchaseRule, category_ids: list[int], errors) -> None:
    """SKUs must be in the catalogue and categories exist: a typo would match nothing."""
    if rule.skus:
        known = set(
            commerce_selectors.product_list()
            .filter(sku__in=rule.skus)
            .values_list("sku", flat=True)
            .order_by()
        )
        missing = [sku for sku in rule.skus if sku not in known]
        if missing:
            errors["skus"].append(
                ngettext(
                    "Unknown SKU: %(skus)s. Name products of the catalogue.",
                    "Unknown SKUs: %(skus)s. Name products of the catalogue.",
                    len(missing),
                )
                % {"skus": ", ".join(missing)}
            )
    if category_ids:
        known = set(
            commerce_selectors.product_categories()
            .filter(pk__in=category_ids)
            .values_list("pk", flat=True)
        )
        missing_ids = [str(pk) for pk in category_ids if pk not in known]
        if missing_ids:
            errors["categories"].append(
                _("Unknown category: %(ids)s.") % {"ids": ", ".join(missing_ids)}
            )


@transaction.atomic
def set_purchase_rule_active(*, rule: PurchaseRule, active: bool) -> PurchaseRule:
    """Switch a rule off (or on again). Points it gave stay; it gives no more while off."""
    PurchaseRule.objects.filter(pk=rule.pk).update(active=active, updated_at=timezone.now())
    rule.refresh_from_db()
    return rule


# -- Applying rules to a batch of orders --------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """A rule with its goods and tiers as sets, for matching thousands of lines."""

    rule: PurchaseRule
    skus: frozenset[str]
    categories: frozenset[int]
    tiers: frozenset[int]

    @property
    def scoped(self) -> bool:
        return bool(self.skus or self.categories)

    def covers(self, sku: str, category_id: int | None) -> bool:
        if not self.scoped:
            return True
        return sku in self.skus or (category_id is not None and category_id in self.categories)

    def bonus(self, units: dict[int, int]) -> Bonus:
        r = self.rule
        value = getattr(r, VALUE_FIELD[r.kind])
        return Bonus(r.pk, r.kind, Decimal(value), units, r.min_order_cents)


def _with_sets(rules: list[PurchaseRule]) -> list[_Rule]:
    prefetch_related_objects(rules, "categories", "eligible_tiers")
    return [
        _Rule(
            r,
            frozenset(r.skus),
            frozenset(c.pk for c in r.categories.all()),
            frozenset(t.pk for t in r.eligible_tiers.all()),
        )
        for r in rules
    ]


def running_rules(first: date, last: date) -> list[_Rule]:
    """Active rules whose window meets these days: one query, none more when there is none."""
    rules = list(
        PurchaseRule.objects.filter(active=True, starts_on__lte=last)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
        .order_by("pk")
    )
    return _with_sets(rules) if rules else []


@dataclass
class RuleBook:
    """The rules of one award batch, and the uses of limited rules as they are taken.

    Built after the batch's members are locked, so the uses read here stay true until the
    transaction ends: of two batches racing for one member's `once` rule, the second
    waits for the lock and then sees the first one's use.
    """

    rules: list[_Rule] = field(default_factory=list)
    lines: dict[int, tuple[str, int]] = field(default_factory=dict)  # line id -> (sku, qty)
    category_of: dict[str, int | None] = field(default_factory=dict)
    tier_of: dict[int, int | None] = field(default_factory=dict)  # member id -> tier id
    # (rule, member) -> {order id: (year, voided)} of limited rules.
    uses: dict[tuple[int, int], dict[int, tuple[int, bool]]] = field(default_factory=dict)
    new_uses: list[PurchaseRuleUse] = field(default_factory=list)
    gave: set[int] = field(default_factory=set)  # rules that gave their first points now

    @classmethod
    def for_batch(
        cls,
        orders: Sequence[tuple[OrderFigures, Sequence[LineFigures]]],
        members: Iterable[Member],
    ) -> RuleBook:
        if not orders:
            return cls()
        days = [timezone.localdate(order.placed_at) for order, _lines in orders]
        rules = running_rules(min(days), max(days))
        if not rules:
            return cls()
        book = cls(rules=rules)
        order_ids = [order.id for order, _lines in orders]
        book.lines = {
            pk: (sku, quantity)
            for pk, sku, quantity in commerce_selectors.lines_of_orders(order_ids)
            .values_list("id", "sku", "quantity")
            .order_by()
        }
        if any(r.categories for r in rules):
            book.category_of = _categories_of({sku for sku, _q in book.lines.values()})
        member_ids = [m.pk for m in members]
        if any(r.tiers for r in rules):
            book.tier_of = dict(
                MemberTier.objects.filter(member_id__in=member_ids).values_list(
                    "member_id", "tier_id"
                )
            )
        limited = [r.rule.pk for r in rules if r.rule.limit != RuleLimit.UNLIMITED]
        if limited:
            rows = PurchaseRuleUse.objects.filter(member_id__in=member_ids, rule_id__in=limited)
            for rule_id, member_id, order_id, year, voided in rows.values_list(
                "rule_id", "member_id", "order_id", "year", "voided_at"
            ):
                book.uses.setdefault((rule_id, member_id), {})[order_id] = (
                    year,
                    voided is not None,
                )
        return book

    def bonuses_for(
        self, order: OrderFigures, lines: Sequence[LineFigures], member: Member
    ) -> list[Bonus]:
        """The rules this order earns by: window, tier, limit and goods in scope."""
        if not self.rules:
            return []
        day = timezone.localdate(order.placed_at)
        tier = self.tier_of.get(member.pk)
        found = []
        for r in self.rules:
            if not r.rule.runs_on(day) or (r.tiers and tier not in r.tiers):
                continue
            if not self._may_use(r.rule, member.pk, order.id, day.year):
                continue
            units = {}
            for line in lines:
                sku, quantity = self.lines.get(line.id, ("", 0))
                if quantity and r.covers(sku, self.category_of.get(sku)):
                    units[line.id] = quantity
            if units:
                found.append(r.bonus(units))
        return found

    def _may_use(self, rule: PurchaseRule, member_id: int, order_id: int, year: int) -> bool:
        if rule.limit == RuleLimit.UNLIMITED:
            return True
        uses = self.uses.get((rule.pk, member_id), {})
        if order_id in uses:  # awarded again (a changed order): its own use, unless given back
            return not uses[order_id][1]
        return not any(
            not voided and (rule.limit == RuleLimit.ONCE or used_year == year)
            for used_year, voided in uses.values()
        )

    def entries(
        self,
        order: OrderFigures,
        member: Member,
        earned: OrderPoints,
        *,
        status: str,
        available_at: datetime,
        done: set[str],
    ) -> list[NewEntry]:
        """The ledger rows of the order's rule points; records the uses of limited rules."""
        if not (earned.rule_lines or earned.rule_orders):
            return []
        by_id = {r.rule.pk: r.rule for r in self.rules}
        cells = [
            (rule_id, line_id, f"earn:rule:{rule_id}:line:{line_id}", points)
            for (rule_id, line_id), points in earned.rule_lines.items()
        ]
        cells += [
            (rule_id, None, f"earn:rule:{rule_id}:order:{order.id}", points)
            for rule_id, points in earned.rule_orders.items()
        ]
        rows = []
        for rule_id, line_id, key, points in cells:
            if key in done:
                continue
            rule = by_id[rule_id]
            rows.append(
                NewEntry(
                    kind=EntryKind.EARN,
                    points=points,
                    status=status,
                    available_at=available_at,
                    order_id=order.id,
                    order_line_id=line_id,
                    source_rule=rule.tag,
                    key=key,
                    reason=rule.name[:200],
                )
            )
        year = timezone.localdate(order.placed_at).year
        for rule_id in {cell[0] for cell in cells}:
            rule = by_id[rule_id]
            if rule.first_awarded_at is None:
                self.gave.add(rule_id)
            if rule.limit == RuleLimit.UNLIMITED:
                continue
            uses = self.uses.setdefault((rule_id, member.pk), {})
            if order.id not in uses:
                uses[order.id] = (year, False)
                self.new_uses.append(
                    PurchaseRuleUse(rule=rule, member=member, order_id=order.id, year=year)
                )
        return rows

    def save(self, *, now: datetime) -> None:
        """Write the uses taken and mark rules that gave points (what they give is fixed)."""
        if self.new_uses:
            PurchaseRuleUse.objects.bulk_create(self.new_uses)
        if self.gave:
            PurchaseRule.objects.filter(pk__in=self.gave, first_awarded_at__isnull=True).update(
                first_awarded_at=now
            )


def _categories_of(skus: set[str]) -> dict[str, int | None]:
    skus.discard("")
    if not skus:
        return {}
    return dict(
        commerce_selectors.product_list()
        .filter(sku__in=skus)
        .values_list("sku", "category_id")
        .order_by()
    )


# -- Taking back --------------------------------------------------------------------------------


@dataclass
class RuleSettlement:
    """What an order's rule rows still deserve after cancellations and returns.

    An order keeps a rule's points while it still qualifies: not cancelled, the goods kept
    (paid amount, on the points' basis, of the units not returned) still reach the rule's
    minimum, and some goods in the rule's scope are kept. Otherwise all of the rule's
    points go back and a limited rule's use is given back. While it qualifies, line points
    go back per returned unit like purchase points, and a per-order bonus stays.
    """

    order: Order
    qualifies: dict[int, bool] = field(default_factory=dict)  # rule id -> still qualifies
    all_returned: bool = False

    @classmethod
    def of(cls, order: Order, earns: list[PointsEntry], *, program: ProgramSettings, cancelled):
        rule_ids = {rule_id_of(e.source_rule) for e in earns} - {None}
        settlement = cls(order)
        if not rule_ids:
            return settlement
        lines = list(order.lines.all())
        settlement.all_returned = all(li.returned_quantity >= li.quantity for li in lines)
        if cancelled:
            settlement.qualifies = dict.fromkeys(rule_ids, False)
            return settlement
        rules = _with_sets(list(PurchaseRule.objects.filter(pk__in=rule_ids)))
        paid, _shipping = paid_amounts(
            [Line(li.pk, li.total_cents, li.tax_rate_bp) for li in lines],
            shipping_cents=order.shipping_cents,
            discount_cents=order.discount_cents,
            basis=program.points_basis,
        )
        kept = [max(li.quantity - li.returned_quantity, 0) for li in lines]
        kept_value = sum(
            (Fraction(p * k, li.quantity) for p, k, li in zip(paid, kept, lines, strict=True)),
            Fraction(0),
        )
        category_of = (
            _categories_of({li.sku for li in lines}) if any(r.categories for r in rules) else {}
        )
        for r in rules:
            in_scope = sum(
                k
                for li, k in zip(lines, kept, strict=True)
                if r.covers(li.sku, category_of.get(li.sku))
            )
            settlement.qualifies[r.rule.pk] = in_scope > 0 and kept_value >= r.rule.min_order_cents
        return settlement

    def target(self, earn: PointsEntry, line) -> tuple[int, str]:
        """(points of this rule row to have taken back in all, cause) for a kept order."""
        if earn.order_line_id is not None and line is None:  # replaced by the shop
            return earn.points, ORDER_CHANGED
        qualifies = self.qualifies.get(rule_id_of(earn.source_rule), True)  # rule gone: keep
        if line is None:  # the per-order bonus
            if qualifies:
                return 0, RETURN
            return earn.points, RETURN if self.all_returned else RULE_UNMET
        returned = returned_share(earn.points, line.returned_quantity, line.quantity)
        if qualifies or returned == earn.points:
            return returned, RETURN
        return earn.points, RULE_UNMET

    def give_back_uses(self, *, now: datetime) -> int:
        """Limited rules this order no longer qualifies for may be earned by another order."""
        lapsed = [rule_id for rule_id, ok in self.qualifies.items() if not ok]
        if not lapsed:
            return 0
        return PurchaseRuleUse.objects.filter(
            order_id=self.order.pk, rule_id__in=lapsed, voided_at__isnull=True
        ).update(voided_at=now)
