"""How many points an order earns: pure integer arithmetic, no database.

The order's points are computed once for the whole order (so rounding happens once,
not per line) and then shared out over its lines by largest remainder, so the lines'
points add up exactly to the order's and a return can take back exactly the points of
the lines that came back. Earning rules (`Bonus`) join the same rounding: their
fractional points are rounded together with the purchase points, once per order, and
shared out over the lines they come from. See docs/loyalty.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from treu.core.money import tax_from_gross
from treu.loyalty.models import PointsBasis, PurchaseRuleKind, Rounding


@dataclass(frozen=True)
class Line:
    key: int  # the order line's id
    total_cents: int  # gross, after the line's own discount
    tax_rate_bp: int


@dataclass(frozen=True)
class Rate:
    points_per_euro: Decimal
    basis: str = PointsBasis.GROSS
    include_shipping: bool = False
    rounding: str = Rounding.DOWN


@dataclass(frozen=True)
class Bonus:
    """An earning rule that applies to an order, as the arithmetic sees it.

    `value`: extra points per euro, points per item, points per order or the factor, as
    `kind` says. `units`: the order's lines in the rule's scope (line key -> quantity);
    empty means the order has no goods the rule counts and earns nothing by it.
    """

    key: int  # the rule's id
    kind: str  # PurchaseRuleKind
    value: Decimal
    units: Mapping[int, int]
    min_cents: int = 0


@dataclass(frozen=True)
class OrderPoints:
    lines: dict[int, int]  # line key -> points
    shipping: int
    # Points by earning rules: per (rule key, line key), and per rule for the whole order.
    rule_lines: dict[tuple[int, int], int] = field(default_factory=dict)
    rule_orders: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return (
            sum(self.lines.values())
            + self.shipping
            + sum(self.rule_lines.values())
            + sum(self.rule_orders.values())
        )

    def of_rule(self, key: int) -> int:
        """All points an earning rule gave this order."""
        lines = sum(p for (rule, _line), p in self.rule_lines.items() if rule == key)
        return lines + self.rule_orders.get(key, 0)


def share_out(amount: int, weights: list[int]) -> list[int]:
    """Split a non-negative integer in proportion to weights, exactly (largest remainder)."""
    whole = sum(weights)
    if amount <= 0 or whole <= 0:
        return [0] * len(weights)
    shares = [amount * w // whole for w in weights]
    remainders = [amount * w % whole for w in weights]
    left = amount - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[i] += 1
    return shares


def _net(gross_cents: int, rate_bp: int) -> int:
    return gross_cents - tax_from_gross(gross_cents, rate_bp)


def paid_amounts(
    lines: Sequence[Line], *, shipping_cents: int, discount_cents: int, basis: str
) -> tuple[list[int], int]:
    """What was paid per line and for shipping, in cents, on the basis points are counted on.

    The order discount is shared over the lines by their amounts; what exceeds the goods
    reduces shipping. On net, each line's VAT is taken out at its rate; shipping's VAT
    follows the goods (German "Nebenleistung"), taken here at the highest rate among them.
    """
    goods = [max(line.total_cents, 0) for line in lines]
    goods_discount = min(max(discount_cents, 0), sum(goods))
    paid = [g - d for g, d in zip(goods, share_out(goods_discount, goods), strict=True)]
    shipping_paid = max(shipping_cents - (max(discount_cents, 0) - goods_discount), 0)
    if basis == PointsBasis.NET:
        paid = [_net(p, line.tax_rate_bp) for p, line in zip(paid, lines, strict=True)]
        top_rate = max((line.tax_rate_bp for line in lines), default=0)
        shipping_paid = _net(shipping_paid, top_rate)
    return paid, shipping_paid


def order_points(
    lines: list[Line],
    *,
    shipping_cents: int,
    discount_cents: int,
    rate: Rate,
    bonuses: Sequence[Bonus] = (),
) -> OrderPoints:
    """Points per line (and for shipping) of one order, and what its earning rules add.

    A rule applies when the goods paid (on the points' basis, shipping never counted) reach
    its minimum and the order has goods in its scope. Multipliers scale the purchase points
    of the lines in scope (several multiply, each credited with what it adds on top of the
    ones before it); extra points per euro count the lines' paid amounts; both are rounded
    together with the purchase points, once per order. Points per item and per order are
    whole already.
    """
    paid, shipping_paid = paid_amounts(
        lines, shipping_cents=shipping_cents, discount_cents=discount_cents, basis=rate.basis
    )
    if not rate.include_shipping:
        shipping_paid = 0
    raw = [Decimal(base) * rate.points_per_euro / 100 for base in [*paid, shipping_paid]]
    cells: list[tuple[int, int]] = []  # (rule key, line key) of the rules' fractional points
    rule_lines: dict[tuple[int, int], int] = {}
    rule_orders: dict[int, int] = {}
    if bonuses:
        at = {line.key: i for i, line in enumerate(lines)}
        factor = [Decimal(1)] * len(lines)
        goods_paid = sum(paid)
        for bonus in bonuses:
            if not bonus.units or goods_paid < bonus.min_cents:
                continue
            if bonus.kind == PurchaseRuleKind.PER_ORDER:
                rule_orders[bonus.key] = int(bonus.value)
            for key, units in bonus.units.items():
                i = at[key]
                if bonus.kind == PurchaseRuleKind.PER_ITEM:
                    rule_lines[(bonus.key, key)] = int(bonus.value) * units
                elif bonus.kind == PurchaseRuleKind.PER_EURO:
                    raw.append(Decimal(paid[i]) * bonus.value / 100)
                    cells.append((bonus.key, key))
                elif bonus.kind == PurchaseRuleKind.MULTIPLIER:
                    raw.append(raw[i] * factor[i] * (bonus.value - 1))
                    factor[i] *= bonus.value
                    cells.append((bonus.key, key))
    points = _round_once(raw, rate.rounding)
    n = len(lines)
    for cell, p in zip(cells, points[n + 1 :], strict=True):
        rule_lines[cell] = p
    return OrderPoints(
        lines={line.key: p for line, p in zip(lines, points[:n], strict=True)},
        shipping=points[n],
        rule_lines={cell: p for cell, p in rule_lines.items() if p > 0},
        rule_orders={key: p for key, p in rule_orders.items() if p > 0},
    )


def _round_once(raw: list[Decimal], rounding: str) -> list[int]:
    """Round the sum once, then share it back by largest remainder (ties: the earlier one)."""
    mode = ROUND_HALF_UP if rounding == Rounding.HALF_UP else ROUND_DOWN
    total = int(sum(raw, Decimal(0)).quantize(Decimal(1), rounding=mode))
    floors = [int(r) for r in raw]  # raw is never negative: int() rounds down
    fractions = [r - f for r, f in zip(raw, floors, strict=True)]
    left = total - sum(floors)
    for i in sorted(range(len(raw)), key=lambda i: (-fractions[i], i))[:left]:
        floors[i] += 1
    return floors


def returned_share(earned: int, returned_quantity: int, quantity: int) -> int:
    """Points of a line to take back for the units returned so far; all of them when all are.

    Rounded down, so a partial return never takes back more than the returned units earned.
    """
    if quantity <= 0:
        return earned
    return earned * min(returned_quantity, quantity) // quantity
