"""The demo shop's customers and what they do over the years: who buys what, when, how often,
what comes back. Pure simulation: it plans model instances in memory; `generator` writes them.

Buy-till-you-die: every customer has a latent type (one-time buyer, occasional, regular,
Christmas gift buyer), buys at that type's pace and, after each purchase, may silently drop
out for good. Deterministic for a given random.Random and Faker.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from faker import Faker

from treu.commerce.models import Order, OrderLine, OrderStatus, Return, ReturnReason
from treu.core.money import tax_from_gross
from treu.customers.models import Address, AddressKind, Customer, ExternalId, Note, fold
from treu.demo import catalogue as cat
from treu.demo.catalogue import Catalogue, ProductDef

if TYPE_CHECKING:
    from treu.demo.generator import DemoOptions


BERLIN = ZoneInfo("Europe/Berlin")

SHIPPING_CENTS = 490
FREE_SHIPPING_FROM_CENTS = 3900
SHIPPING_TAX_BP = 1900
WELCOME_DISCOUNT_PERCENT = 10
BLACK_WEEK_DISCOUNT_PERCENT = 15

# Acquisition: the shop grows (three times the new customers at the end as at
# the start), with a Christmas peak and quiet summers.
GROWTH = 2.0
SEASON = {1: 0.8, 2: 0.8, 3: 0.9, 4: 0.9, 5: 0.9, 6: 0.85, 7: 0.8, 8: 0.8}
SEASON |= {9: 0.95, 10: 1.05, 11: 1.4, 12: 1.9}
WEEKDAY = (1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 0.9)
# When people order online, by hour of day (Berlin time).
ONLINE_HOURS = (1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 2, 3, 4, 4.5, 5, 5, 4.5, 4.5, 4.5, 5)
ONLINE_HOURS += (5.5, 6, 7, 8, 8, 6, 3)
_HOURS_CUMULATIVE = tuple(accumulate(ONLINE_HOURS))

SMALL_BAGS = ((250, 75), (500, 15), (1000, 10))
EMAIL_DOMAINS = (
    ("gmx.de", 22),
    ("web.de", 20),
    ("gmail.com", 24),
    ("t-online.de", 12),
    ("outlook.de", 5),
    ("icloud.com", 5),
    ("yahoo.de", 4),
    ("posteo.de", 3),
    ("mailbox.org", 2),
    ("freenet.de", 3),
)
# Plain e-mail addresses are checked against this many earlier ones; beyond
# that (huge builds) every address carries the customer number, which keeps
# them unique without holding a million strings in memory.
EMAIL_MEMORY = 100_000

RETURN_REASONS_GEAR = (
    (ReturnReason.DEFECTIVE, 30),
    (ReturnReason.CHANGED_MIND, 35),
    (ReturnReason.NOT_AS_DESCRIBED, 15),
    (ReturnReason.DAMAGED, 15),
    (ReturnReason.OTHER, 5),
)
RETURN_REASONS_GOODS = (
    (ReturnReason.DAMAGED, 40),
    (ReturnReason.WRONG_ITEM, 30),
    (ReturnReason.CHANGED_MIND, 20),
    (ReturnReason.OTHER, 10),
)
RETURN_COMMENTS = {
    ReturnReason.DEFECTIVE: (
        "Mahlwerk klemmt nach zwei Wochen.",
        "Pumpe baut keinen Druck auf.",
        "",
    ),
    ReturnReason.DAMAGED: ("Packung kam aufgerissen an.", "Glas gesprungen.", ""),
    ReturnReason.WRONG_ITEM: ("Ganze Bohne bestellt, gemahlen geliefert.", "Falsche Sorte.", ""),
    ReturnReason.CHANGED_MIND: ("Passt doch nicht in die Küche.", "", ""),
    ReturnReason.NOT_AS_DESCRIBED: ("Lauter als erwartet.", ""),
    ReturnReason.OTHER: ("",),
}
NOTES_REGULAR = (
    "Stammkundschaft, mag kräftige Röstungen. Fragt regelmäßig nach Kenia.",
    "Bestellt immer ganze Bohne, nie gemahlen.",
    "Hat nach der Weihnachtsmischung gefragt – im Oktober Bescheid geben.",
    "Trinkt nur Espresso, Siebträger seit 2021.",
    "Wünscht keine Papierrechnung im Paket.",
)
NOTES_STORE = (
    "Kommt samstags in den Laden, nimmt meist 1 kg Hausmischung.",
    "Bringt eigene Dose mit – bitte ohne Tüte abfüllen.",
    "Interessiert sich für den Barista-Kurs.",
)
NOTES_DEFECT = (
    "Maschine reklamiert, Ersatz verschickt. Kulanz: Tüte Espresso beigelegt.",
    "Defekt telefonisch besprochen, Rücksendeetikett per Mail geschickt.",
)


class Timeline:
    """Days of the shop's history and how customer acquisition is spread over them."""

    def __init__(self, *, until: date, years: int) -> None:
        self.until = until
        self.start = until - timedelta(days=round(365.25 * years))
        self.days = (until - self.start).days
        self.dates = [self.start + timedelta(days=d) for d in range(self.days)]
        self._midnight = [datetime(d.year, d.month, d.day, tzinfo=BERLIN) for d in self.dates]
        self.start_at = self._midnight[0]
        self.end_at = datetime(until.year, until.month, until.day, tzinfo=BERLIN)
        self._weights = [
            (1 + GROWTH * i / self.days) * SEASON[d.month] * WEEKDAY[d.weekday()]
            for i, d in enumerate(self.dates)
        ]
        self._cumulative = list(accumulate(self._weights))

    def at(self, t: float) -> datetime:
        """t counts days since the start; times within a day are wall-clock Berlin time."""
        day = int(t)
        return self._midnight[day] + timedelta(seconds=int((t - day) * 86400))

    def day_number(self, d: date) -> int:
        return (d - self.start).days

    def acquisition(self, u: float) -> float:
        """Map u in [0, 1) to a moment, monotonically, so sorted u give sorted moments."""
        x = u * self._cumulative[-1]
        day = min(bisect.bisect_right(self._cumulative, x), self.days - 1)
        before = self._cumulative[day - 1] if day else 0.0
        within = min(max((x - before) / self._weights[day], 0.0), 0.999999)
        return day + _online_hour(within) / 24


def _online_hour(frac: float) -> float:
    """Monotone map of [0, 1) to an hour of day with the online shop's daily rhythm."""
    x = frac * _HOURS_CUMULATIVE[-1]
    hour = min(bisect.bisect_right(_HOURS_CUMULATIVE, x), 23)
    before = _HOURS_CUMULATIVE[hour - 1] if hour else 0.0
    return hour + min((x - before) / ONLINE_HOURS[hour], 0.999)


def _opening_day(timeline: Timeline, day: int) -> int:
    """The store is closed on Sundays: such visits happen on the Monday (or Saturday)."""
    if timeline.dates[day].weekday() != 6:
        return day
    return day + 1 if day + 1 < timeline.days else day - 1


def sorted_uniforms(n: int, rng: random.Random) -> Iterator[float]:
    """n uniform draws in ascending order, one at a time (no list of n held in memory)."""
    top = 1.0
    for k in range(n, 0, -1):
        top *= rng.random() ** (1.0 / k)
        yield 1.0 - top


def _weighted(rng: random.Random, options):
    total = sum(w for _, w in options)
    x = rng.random() * total
    for value, weight in options:
        x -= weight
        if x < 0:
            return value
    return options[-1][0]


# --- the simulation ------------------------------------------------------------------------


@dataclass
class Profile:
    kind: str  # lead, one_time, occasional, regular, gift
    channel: str  # online or store
    taste: str  # filter, espresso or tea
    favourite: ProductDef
    subscriber: bool = False


@dataclass
class OrderPlan:
    order: Order
    lines: list[OrderLine]
    item_count: int
    ret: Return | None = None
    return_lines: list[tuple[OrderLine, int, int]] = field(default_factory=list)  # qty, cents


@dataclass
class CustomerPlan:
    customer: Customer
    addresses: list[Address]
    external_ids: list[ExternalId]
    orders: list[OrderPlan]
    notes: list[tuple[Note, object]]


class Simulator:
    def __init__(self, options: DemoOptions, timeline: Timeline, catalogue: Catalogue, staff):
        self.options = options
        self.t = timeline
        self.catalogue = catalogue
        self.staff = staff
        self.rng = random.Random(options.seed)
        self.fake = Faker("de_DE")
        self.fake.seed_instance(options.seed)
        self._emails: set[str] = set()
        self._day_counters: dict[tuple[str, int], int] = {}
        self._online_orders = 0
        self._tax_cache: dict[tuple[int, int], int] = {}
        self.filter_beans = cat.group("filter")
        self.espresso_beans = cat.group("espresso")
        self.teas = cat.group("tea")
        self.gear = cat.group("gear")
        self.grinders = cat.group("grinder")
        self.machines = cat.group("machine")
        self.gifts = cat.group("gift") + cat.group("mug")
        self.care = cat.group("care")
        self.paper = cat.group("paper")[0]
        self.abo = cat.group("abo")[0]

    # -- helpers

    def tax(self, gross: int, rate: int) -> int:
        key = (gross, rate)
        if key not in self._tax_cache:
            self._tax_cache[key] = tax_from_gross(gross, rate)
        return self._tax_cache[key]

    def _email(self, first: str, last: str, number: int, birth_year: int | None) -> str:
        rng = self.rng
        f = "".join(c for c in fold(first).split(" ")[0] if c.isalnum() or c == "-")
        la = "".join(c for c in fold(last) if c.isalnum() or c == "-")
        digits = f"{(birth_year or rng.randint(1960, 2002)) % 100:02d}"
        local = _weighted(
            rng,
            (
                (f"{f}.{la}", 40),
                (f"{f[:1]}.{la}", 12),
                (f"{f}{la}", 12),
                (f"{f}.{la}{digits}", 14),
                (f"{la}.{f}", 6),
                (f"{f}{digits}", 6),
                (f"{f}_{la[:1]}", 5),
                (f"{la}{f[:1]}", 5),
            ),
        )
        domain = _weighted(rng, EMAIL_DOMAINS)
        email = f"{local}@{domain}"
        if email in self._emails or len(self._emails) >= EMAIL_MEMORY:
            # Plain forms end in at most two digits; these end in five or more.
            return f"{f}.{la}{number}@{domain}"
        self._emails.add(email)
        return email

    def _profile(self, t0: float) -> Profile:
        rng = self.rng
        month = self.t.dates[int(t0)].month
        if rng.random() < 0.04:
            kind = "lead"  # signed up for the newsletter, never bought
        elif month in (11, 12):
            kind = _weighted(
                rng, (("one_time", 48), ("occasional", 16), ("regular", 12), ("gift", 24))
            )
        else:
            kind = _weighted(rng, (("one_time", 60), ("occasional", 23), ("regular", 17)))
        channel = "store" if rng.random() < 0.22 else "online"
        taste = _weighted(rng, (("espresso", 55), ("filter", 37), ("tea", 8)))
        if taste == "tea":
            favourite = rng.choice(self.teas)
        else:
            beans = self.espresso_beans if taste == "espresso" else self.filter_beans
            # Regulars go through more coffee, so they buy bigger bags.
            sizes = ((250, 40), (500, 30), (1000, 30)) if kind == "regular" else SMALL_BAGS
            grams = _weighted(rng, sizes)
            favourite = rng.choice([p for p in beans if p.grams == grams] or list(beans))
        subscriber = kind == "regular" and channel == "online" and rng.random() < 0.15
        return Profile(kind, channel, taste, favourite, subscriber)

    def _purchase_times(self, p: Profile, t0: float) -> list[tuple[float, bool]]:
        """(moment, is Christmas shopping) of every purchase, the first at t0."""
        rng, days = self.rng, self.t.days
        if p.kind == "lead":
            return []
        times = [(t0, p.kind == "gift")]
        if p.kind == "one_time":
            return times
        if p.kind == "gift":
            year = self.t.dates[int(t0)].year + (self.t.dates[int(t0)].month >= 11)
            while rng.random() < 0.55:
                day = self.t.day_number(date(year, 11, 25)) + rng.randint(0, 25)
                if day >= days:
                    break
                times.append((day + rng.uniform(8, 22) / 24, True))
                year += 1
            return times
        t = t0
        if p.kind == "occasional":
            gap, dropout = rng.uniform(50, 160), 0.3
        elif p.subscriber:
            gap, dropout = 30.0, 0.02
        else:
            base = {250: 24, 500: 31, 1000: 38}.get(p.favourite.grams, 35)
            gap, dropout = base * rng.uniform(0.85, 1.12), 0.025
        last_alive = t0
        while rng.random() >= dropout:
            if p.subscriber:
                step = gap
            elif p.kind == "regular":
                step = gap * min(max(rng.gauss(1.0, 0.15), 0.6), 1.6)
                if rng.random() < 0.07:
                    step += gap  # holidays: one delivery skipped
            else:
                step = gap * rng.uniform(0.4, 1.6)
            t += step
            if t >= days:
                break
            times.append((t, False))
            last_alive = t
        # Alive in December: some add a Christmas order on top.
        chance = 0.35 if p.kind == "regular" else 0.25
        year = self.t.dates[int(t0)].year
        while True:
            day = self.t.day_number(date(year, 12, 1)) + rng.randint(0, 19)
            if day >= days or day > last_alive + gap:
                break
            if day > t0 + 1 and rng.random() < chance:
                times.append((day + rng.uniform(8, 22) / 24, True))
            year += 1
        times.sort()
        return times

    def _basket(self, p: Profile, first: bool, xmas: bool) -> list[tuple[ProductDef, int]]:
        rng = self.rng
        items: dict[str, tuple[ProductDef, int]] = {}

        def add(product: ProductDef, qty: int = 1) -> None:
            have = items.get(product.sku)
            items[product.sku] = (product, (have[1] if have else 0) + qty)

        if p.kind == "gift" or (xmas and rng.random() < 0.5):
            for _ in range(rng.choice((1, 1, 2, 3))):
                add(rng.choice(self.gifts + self.teas[:2] + self.gear[1:2]))
            if rng.random() < 0.5:
                add(p.favourite if p.taste != "tea" else rng.choice(self.espresso_beans))
            return list(items.values())
        if p.subscriber and not first:
            add(self.abo)
        else:
            qty = 2 if p.favourite.grams == 250 and rng.random() < 0.35 else 1
            add(p.favourite, qty)
        if rng.random() < 0.22:
            pool = (
                self.teas
                if p.taste == "tea"
                else (self.espresso_beans if p.taste == "espresso" else self.filter_beans)
            )
            add(rng.choice(pool))
        if first:
            x = rng.random()
            if x < 0.015 and p.taste == "espresso":
                add(rng.choice(self.machines))
                add(cat.BY_SKU["Z-TAMPER"])
            elif x < 0.06:
                add(rng.choice(self.grinders))
            elif x < 0.25:
                add(rng.choice(self.gear))
            if p.taste == "filter" and rng.random() < 0.3:
                add(self.paper)
        else:
            if p.taste == "filter" and rng.random() < 0.25:
                add(self.paper)
            if p.taste == "espresso" and rng.random() < 0.08:
                add(rng.choice(self.care))
            if rng.random() < 0.06:
                add(rng.choice(self.teas))
            if rng.random() < 0.015:
                add(rng.choice(self.gear + self.grinders))
        return list(items.values())

    def _number(self, shop_code: str, day: int) -> int:
        key = (shop_code, day)
        n = self._day_counters.get(key, 0) + 1
        self._day_counters[key] = n
        return n

    def _order(
        self, customer: Customer, p: Profile, t: float, first: bool, xmas: bool
    ) -> OrderPlan:
        rng, tl = self.rng, self.t
        channel = (
            p.channel if rng.random() >= 0.08 else ("online" if p.channel == "store" else "store")
        )
        if p.subscriber and not first:
            channel = "online"
        day = int(t)
        if channel == "store" and not first:  # first visits were placed in opening hours already
            day = _opening_day(tl, day)
            t = day + rng.uniform(9.5, 18.5) / 24
        basket = self._basket(p, first, xmas)
        lines = []
        subtotal = line_tax = items = 0
        for product, qty in basket:
            total = qty * product.price_cents
            tax = self.tax(total, product.tax_rate_bp)
            subtotal += total
            line_tax += tax
            items += qty
            lines.append(
                OrderLine(
                    product_id=self.catalogue.product_ids[product.sku],
                    sku=product.sku,
                    title=product.name,
                    quantity=qty,
                    unit_price_cents=product.price_cents,
                    discount_cents=0,
                    total_cents=total,
                    tax_rate_bp=product.tax_rate_bp,
                    tax_cents=tax,
                )
            )
        d = tl.dates[day]
        discount = 0
        if channel == "online":
            if first and rng.random() < 0.3:
                discount = subtotal * WELCOME_DISCOUNT_PERCENT // 100
            elif d.month == 11 and d.day >= 24 and rng.random() < 0.5:
                discount = subtotal * BLACK_WEEK_DISCOUNT_PERCENT // 100
        shipping = 0
        if channel == "online" and subtotal - discount < FREE_SHIPPING_FROM_CENTS:
            shipping = SHIPPING_CENTS
        total = subtotal + shipping - discount
        # As commerce.services.orders._order_tax: the discount reduces VAT in proportion.
        if subtotal and discount:
            line_tax -= round(line_tax * discount / subtotal)
        tax = min(max(line_tax, 0) + self.tax(shipping, SHIPPING_TAX_BP), total)

        shop = self.catalogue.online if channel == "online" else self.catalogue.store
        n = self._number(shop.code, day)
        stamp = f"{d:%y%m%d}-{n:04d}"
        if channel == "online":
            self._online_orders += 1
            number, external_id = f"W{stamp}", str(5_500_000_000 + self._online_orders)
        else:
            number, external_id = f"L{stamp}", f"BON-{stamp}"

        placed = tl.at(t)
        status, paid, fulfilled, delivered, cancelled = OrderStatus.PAID, placed, None, None, None
        updated = placed
        if channel == "store":
            status, fulfilled, delivered = OrderStatus.DELIVERED, placed, placed
        elif rng.random() < 0.012 and t + 0.5 < tl.days:
            status, cancelled = OrderStatus.CANCELLED, tl.at(t + rng.uniform(0.02, 0.5))
            updated = cancelled
        else:
            t_ship = t + rng.uniform(0.3, 2.0)
            t_deliver = t_ship + rng.uniform(0.8, 3.0)
            if t_deliver < tl.days:
                status, fulfilled, delivered = (
                    OrderStatus.DELIVERED,
                    tl.at(t_ship),
                    tl.at(t_deliver),
                )
                updated = delivered
            elif t_ship < tl.days:
                status, fulfilled = OrderStatus.SHIPPED, tl.at(t_ship)
                updated = fulfilled
        order = Order(
            shop=shop,
            external_id=external_id,
            number=number,
            customer=customer,
            status=status,
            subtotal_cents=subtotal,
            shipping_cents=shipping,
            discount_cents=discount,
            total_cents=total,
            tax_cents=tax,
            net_cents=total - tax,
            refunded_cents=0,
            placed_at=placed,
            paid_at=paid,
            fulfilled_at=fulfilled,
            delivered_at=delivered,
            cancelled_at=cancelled,
            created_at=placed,
            updated_at=updated,
        )
        for line in lines:
            line.order = order
        plan = OrderPlan(order=order, lines=lines, item_count=items)
        if status == OrderStatus.DELIVERED:
            self._maybe_return(plan, basket, in_store=channel == "store")
        return plan

    def _maybe_return(self, plan: OrderPlan, basket, *, in_store: bool) -> None:
        rng, tl, order = self.rng, self.t, plan.order
        gear_lines = [
            (line, product)
            for line, (product, _) in zip(plan.lines, basket, strict=True)
            if product.group in ("machine", "grinder", "gear")
        ]
        chance = 0.15 if any(p.group in ("machine", "grinder") for _, p in gear_lines) else 0.038
        if in_store:
            chance /= 3  # tried in the store, so fewer come back
        if rng.random() >= chance:
            return
        if gear_lines:
            line = max(gear_lines, key=lambda lp: lp[0].total_cents)[0]
            reason = _weighted(rng, RETURN_REASONS_GEAR)
        else:
            line = rng.choice(plan.lines)
            reason = _weighted(rng, RETURN_REASONS_GOODS)
        qty = line.quantity if line.quantity == 1 or rng.random() < 0.5 else 1
        amount = line.total_cents * qty // line.quantity
        if order.discount_cents:  # what was really paid for it, after the order discount
            amount -= -(-amount * order.discount_cents // order.subtotal_cents)
        whole = len(plan.lines) == 1 and qty == line.quantity
        shipping_refund = order.shipping_cents if whole else 0
        t_delivered = (order.delivered_at - tl.start_at).total_seconds() / 86400
        t_refund = t_delivered + rng.uniform(3, 18)
        if t_refund >= tl.days or amount + shipping_refund <= 0:
            return
        refunded_at = tl.at(t_refund)
        total = amount + shipping_refund
        plan.ret = Return(
            order=order,
            external_id=f"R-{order.external_id}",
            reason=reason,
            comment=rng.choice(RETURN_COMMENTS[reason]),
            shipping_refund_cents=shipping_refund,
            amount_cents=total,
            refunded_at=refunded_at,
            created_at=refunded_at,
            updated_at=refunded_at,
        )
        plan.return_lines = [(line, qty, amount)]
        order.refunded_cents = total
        order.updated_at = max(order.updated_at, refunded_at)

    def customer(self, number: int, t0: float) -> CustomerPlan:
        rng, fake, tl = self.rng, self.fake, self.t
        p = self._profile(t0)
        female = rng.random() < 0.52
        first = fake.first_name_female() if female else fake.first_name_male()
        last = fake.last_name()
        birthday = None
        if rng.random() < 0.6:
            birthday = date(rng.randint(1945, 2004), rng.randint(1, 12), rng.randint(1, 28))
        email = None
        if p.channel == "online" or rng.random() < 0.85:
            email = self._email(first, last, number, birthday.year if birthday else None)
        phone = fake.phone_number() if rng.random() < 0.35 else ""
        language = "en" if rng.random() < 0.04 else "de"
        if p.channel == "store":
            # The store's opening hours, keeping the order of moments within the day.
            t0 = _opening_day(tl, int(t0)) + 9 / 24 + (t0 - int(t0)) * 10 / 24
        created_at = tl.at(t0)
        customer = Customer(
            number=number,
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
            birthday=birthday,
            language=language,
            source_channel=p.channel,
            source_shop=self.catalogue.online if p.channel == "online" else self.catalogue.store,
            created_at=created_at,
            updated_at=created_at,
        )
        customer.refresh_search_keys()

        addresses = []
        if p.channel == "online" or rng.random() < 0.4:
            addresses.append(self._address(customer, AddressKind.SHIPPING, True))
            if rng.random() < 0.15:
                addresses.append(self._address(customer, AddressKind.BILLING, True))

        orders: list[OrderPlan] = []
        for i, (t, xmas) in enumerate(self._purchase_times(p, t0)):
            if i == 0:
                t = min(t + rng.uniform(2, 15) / 1440, tl.days - 1e-6)
            orders.append(self._order(customer, p, t, i == 0, xmas))

        external_ids = []
        if p.channel == "online" or any(
            o.order.shop_id == self.catalogue.online.pk for o in orders
        ):
            external_ids.append(
                ExternalId(
                    customer=customer,
                    shop=self.catalogue.online,
                    external_id=str(7_200_000_000_000 + number),
                    created_at=created_at,
                )
            )

        notes = self._notes(customer, p, orders)
        counted = [o.order for o in orders if o.order.status != OrderStatus.CANCELLED]
        if counted:
            customer.first_order_at = min(o.placed_at for o in counted)
            customer.last_order_at = max(o.placed_at for o in counted)
            customer.order_count = len(counted)
            customer.total_spent_cents = sum(o.total_cents - o.refunded_cents for o in counted)
        moments = [o.order.updated_at for o in orders] + [n.created_at for n, _ in notes]
        customer.updated_at = max([created_at, *moments])
        return CustomerPlan(customer, addresses, external_ids, orders, notes)

    def _address(self, customer: Customer, kind: str, default: bool) -> Address:
        rng, fake = self.rng, self.fake
        number = str(rng.randint(1, 140)) + (rng.choice("abc") if rng.random() < 0.08 else "")
        return Address(
            customer=customer,
            kind=kind,
            company=fake.company() if rng.random() < 0.03 else "",
            street=f"{fake.street_name()} {number}",
            address_extra=rng.choice(("Hinterhaus", "2. OG", "bei Müller"))
            if rng.random() < 0.04
            else "",
            postcode=fake.postcode(),
            city=fake.city(),
            country="DE",
            is_default=default,
            created_at=customer.created_at,
            updated_at=customer.created_at,
        )

    def _notes(self, customer: Customer, p: Profile, orders: list[OrderPlan]):
        rng, tl = self.rng, self.t
        notes = []
        defects = [o.ret for o in orders if o.ret and o.ret.reason == ReturnReason.DEFECTIVE]
        if defects and rng.random() < 0.6:
            at = defects[0].refunded_at - timedelta(days=rng.randint(1, 3))
            notes.append((rng.choice(NOTES_DEFECT), "support", at))
        if len(orders) >= 5 and rng.random() < 0.08:
            o = orders[rng.randint(2, len(orders) - 1)].order
            if p.channel == "store":
                notes.append((rng.choice(NOTES_STORE), "kasse", o.placed_at + timedelta(minutes=5)))
            else:
                notes.append(
                    (rng.choice(NOTES_REGULAR), "inhaberin", o.placed_at + timedelta(hours=20))
                )
        built = []
        for text, author, at in notes:
            at = min(at, tl.end_at - timedelta(minutes=1))
            author_user = self.staff[author]
            built.append(
                (
                    Note(
                        customer=customer,
                        author=author_user,
                        text=text,
                        created_at=at,
                        updated_at=at,
                    ),
                    author_user,
                )
            )
        return built
