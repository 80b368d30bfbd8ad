"""How many points an order earns: pure integer arithmetic, no database.

The order's points are computed once for the whole order (so rounding happens once,
not per line) and then shared out over its lines by largest remainder, so the lines'
points add up exactly to the order's and a return can take back exactly the points of
the lines that came back. See docs/loyalty.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from treu.core.money import tax_from_gross
from treu.loyalty.models import PointsBasis, Rounding


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
class OrderPoints:
    lines: dict[int, int]  # line key -> points
    shipping: int

    @property
    def total(self) -> int:
        return sum(self.lines.values()) + self.shipping


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


def order_points(
    lines: list[Line], *, shipping_cents: int, discount_cents: int, rate: Rate
) -> OrderPoints:
    """Points per line (and for shipping) of one order.

    The order discount is shared over the lines by their amounts; what exceeds the goods
    reduces shipping. On net, each line's VAT is taken out at its rate; shipping's VAT
    follows the goods (German "Nebenleistung"), taken here at the highest rate among them.
    """
    goods = [max(line.total_cents, 0) for line in lines]
    goods_discount = min(max(discount_cents, 0), sum(goods))
    paid = [g - d for g, d in zip(goods, share_out(goods_discount, goods), strict=True)]
    shipping_paid = max(shipping_cents - (max(discount_cents, 0) - goods_discount), 0)
    if not rate.include_shipping:
        shipping_paid = 0
    if rate.basis == PointsBasis.NET:
        paid = [_net(p, line.tax_rate_bp) for p, line in zip(paid, lines, strict=True)]
        top_rate = max((line.tax_rate_bp for line in lines), default=0)
        shipping_paid = _net(shipping_paid, top_rate)

    bases = [*paid, shipping_paid]
    raw = [Decimal(base) * rate.points_per_euro / 100 for base in bases]
    mode = ROUND_HALF_UP if rate.rounding == Rounding.HALF_UP else ROUND_DOWN
    total = int(sum(raw, Decimal(0)).quantize(Decimal(1), rounding=mode))
    floors = [int(r) for r in raw]  # raw is never negative: int() rounds down
    fractions = [r - f for r, f in zip(raw, floors, strict=True)]
    left = total - sum(floors)
    for i in sorted(range(len(raw)), key=lambda i: (-fractions[i], i))[:left]:
        floors[i] += 1
    return OrderPoints(
        lines={line.key: p for line, p in zip(lines, floors[:-1], strict=True)},
        shipping=floors[-1],
    )


def returned_share(earned: int, returned_quantity: int, quantity: int) -> int:
    """Points of a line to take back for the units returned so far; all of them when all are.

    Rounded down, so a partial return never takes back more than the returned units earned.
    """
    if quantity <= 0:
        return earned
    return earned * min(returned_quantity, quantity) // quantity
