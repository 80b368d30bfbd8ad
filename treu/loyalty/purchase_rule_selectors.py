"""Reads about purchase rules: the list, one rule, and the example shown beside a rule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from treu.loyalty.models import PointsBasis, ProgramSettings, PurchaseRule, PurchaseRuleKind
from treu.loyalty.points import Bonus, Line, Rate, order_points

# The example order: 50 € of goods the rule counts (two items at 7 % VAT), or the rule's
# minimum when that is higher.
EXAMPLE_GOODS_CENTS, EXAMPLE_UNITS, EXAMPLE_VAT_BP = 5000, 2, 700


def purchase_rules() -> QuerySet[PurchaseRule]:
    """Every rule, active and running first; with categories and tiers (three queries)."""
    return PurchaseRule.objects.prefetch_related("categories", "eligible_tiers").order_by(
        "-active", "-starts_on", "-id"
    )


def purchase_rule(rule_id: int) -> PurchaseRule:
    return PurchaseRule.objects.get(pk=rule_id)


@dataclass(frozen=True)
class RuleExample:
    goods_cents: int
    units: int
    without_rule: int
    with_rule: int


def rule_example(
    *, kind: str, value: Decimal | int | None, min_order_cents: int, program: ProgramSettings
) -> RuleExample | None:
    """What an example order earns without and with the rule ("50 € → 50, with it 100").

    The programme's rate, basis and rounding, no tier, no shipping; None without a value.
    """
    if value is None or kind not in PurchaseRuleKind.values:
        return None
    goods = max(EXAMPLE_GOODS_CENTS, min_order_cents or 0)
    if program.points_basis == PointsBasis.NET:  # the minimum is net then, too
        goods = max(goods, -(-(min_order_cents or 0) * (10_000 + EXAMPLE_VAT_BP) // 10_000))
    lines = [Line(1, goods, EXAMPLE_VAT_BP)]
    rate = Rate(
        points_per_euro=program.points_per_euro,
        basis=program.points_basis,
        include_shipping=False,
        rounding=program.rounding,
    )
    bonus = Bonus(0, kind, Decimal(value), {1: EXAMPLE_UNITS}, min_order_cents or 0)
    plain = order_points(lines, shipping_cents=0, discount_cents=0, rate=rate)
    ruled = order_points(lines, shipping_cents=0, discount_cents=0, rate=rate, bonuses=[bonus])
    return RuleExample(goods, EXAMPLE_UNITS, plain.total, ruled.total)
