"""A small world of customers for the segment properties, and a plain Python reading of rules.

`people` and `trees` are hypothesis strategies over indices (shops, products, tags, tiers…
are created per example); `build` writes a drawn world to the database through the
models (the order figures through commerce's own summary code); `expected` evaluates a
rule tree over the drawn description alone, one customer at a time — the reference the
database's answer must equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from treu.analytics.models import CustomerFigures
from treu.commerce.models import Category, Order, OrderLine, Product, Shop, ShopKind
from treu.commerce.services import refresh_customer_summaries
from treu.customers.models import Address, Customer, Tag
from treu.loyalty.models import Member, MemberTier, Tier
from treu.messaging.models import MessageEvent, OutboundMessage

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 29, 10, 30, tzinfo=BERLIN)  # the day summer time starts
TODAY = NOW.date()
PLACES = [("80331", "München"), ("10115", "Berlin"), ("86150", "Augsburg"), ("80999", "München")]
RFM = ["champions", "at_risk", "lost"]
PRODUCT_CATEGORY = [0, 0, 1]  # product index -> category index

order_st = st.tuples(
    st.integers(0, 400),  # days ago
    st.integers(0, 23),  # hour of that day
    st.integers(100, 40_000),  # cents
    st.booleans(),  # cancelled
    st.integers(0, 2),  # refunded: nothing, half, all
    st.sets(st.integers(0, 2), min_size=1, max_size=3),  # products
)
event_st = st.tuples(
    st.sampled_from(["open", "click"]),
    st.integers(0, 75),  # days ago
    st.integers(0, 23),  # hour of that day
)
mail_st = st.tuples(
    st.integers(0, 75),  # days ago it was sent (or written, when not sent)
    st.integers(0, 23),  # hour of that day
    st.sampled_from(["sent", "sent", "queued", "failed"]),
    st.booleans(),  # marketing (else transactional)
    st.lists(event_st, max_size=3),
)
person_st = st.fixed_dictionaries(
    {
        "orders": st.lists(order_st, max_size=4),
        "erased": st.integers(0, 9).map(lambda n: n == 0),
        "birth_month": st.none() | st.integers(1, 12),
        "shop": st.none() | st.integers(0, 1),
        "tags": st.sets(st.integers(0, 1)),
        "place": st.none() | st.integers(0, len(PLACES) - 1),
        "member": st.none() | st.tuples(st.integers(0, 600), st.none() | st.integers(0, 1)),
        "rfm": st.none() | st.sampled_from(RFM),
        "mails": st.lists(mail_st, max_size=3),
    }
)
people = st.lists(person_st, min_size=1, max_size=7)

ids_of = st.sets(st.integers(0, 1), min_size=1)
condition_st = st.one_of(
    st.tuples(st.just("order_count"), st.sampled_from(["gte", "lte", "eq"]), st.integers(0, 4)),
    st.tuples(st.just("total_spent"), st.sampled_from(["gte", "lte"]), st.integers(0, 80_000)),
    st.tuples(
        st.just("average_order_value"), st.sampled_from(["gte", "lte"]), st.integers(0, 40_000)
    ),
    st.tuples(
        st.sampled_from(["last_order", "first_order"]),
        st.sampled_from(["within", "not_within"]),
        st.integers(1, 420),
    ),
    st.tuples(
        st.sampled_from(["last_order", "first_order"]),
        st.sampled_from(["since", "before"]),
        st.integers(0, 420).map(lambda d: (TODAY - timedelta(days=d)).isoformat()),
    ),
    st.tuples(
        st.just("products"),
        st.sampled_from(["in", "all", "not_in"]),
        st.sets(st.integers(0, 2), min_size=1),
    ),  # fmt: skip
    st.tuples(st.just("categories"), st.sampled_from(["in", "all", "not_in"]), ids_of),
    st.tuples(st.just("source_shop"), st.sampled_from(["in", "not_in"]), ids_of),
    st.tuples(
        st.just("rfm_segment"),
        st.sampled_from(["in", "not_in"]),
        st.sets(st.sampled_from(RFM), min_size=1),
    ),  # fmt: skip
    st.tuples(st.just("loyalty_tier"), st.sampled_from(["in", "not_in"]), ids_of),
    st.tuples(
        st.just("points_balance"),
        st.sampled_from(["gte", "lte"]),
        st.sampled_from([0, 1, 300, 600]) | st.integers(0, 650),
    ),  # fmt: skip
    st.tuples(st.just("tags"), st.sampled_from(["in", "all", "not_in"]), ids_of),
    st.tuples(st.just("birthday_month"), st.just("in"), st.sets(st.integers(1, 12), min_size=1)),
    st.tuples(st.just("postcode"), st.just("starts_with"), st.sampled_from(["8", "803", "1", "9"])),
    st.tuples(st.just("city"), st.just("is"), st.sampled_from(["München", "berlin", "Hamburg"])),
    st.tuples(
        st.just("engagement"),
        st.sampled_from(["engaged", "opened", "clicked", "unengaged", "received"]),
        st.sampled_from([1, 7, 30]) | st.integers(1, 80),
    ),
)
group_st = st.tuples(
    st.sampled_from(["all", "any"]), st.lists(condition_st, min_size=1, max_size=3)
)
# Half the trees are one condition: each field's reading is checked on its own, not only
# inside combinations where another condition may decide.
trees = st.one_of(
    condition_st.map(lambda condition: ("all", [("all", [condition])])),
    st.tuples(st.sampled_from(["all", "any"]), st.lists(group_st, max_size=3)),
)


@dataclass
class World:
    customers: list[Customer]
    shops: list[Shop]
    products: list[Product]
    categories: list[Category]
    tags: list[Tag]
    tiers: list[Tier]


def placed(days: int, hour: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days), datetime.min.time()).replace(
        hour=hour, tzinfo=BERLIN
    )


def build(drawn: list[dict]) -> World:
    shops = [
        Shop.objects.create(code=f"s{n}", name=f"Shop {n}", kind=ShopKind.SHOPIFY) for n in (0, 1)
    ]
    categories = [Category.objects.create(name=f"Kategorie {n}", slug=f"k{n}") for n in (0, 1)]
    products = [
        Product.objects.create(
            sku=f"P{n}", name=f"Produkt {n}", category=categories[c], price_cents=100
        )
        for n, c in enumerate(PRODUCT_CATEGORY)
    ]
    tags = [Tag.objects.create(name=f"tag{n}") for n in (0, 1)]
    tiers = [Tier.objects.create(name=f"Stufe {n}", rank=n + 1) for n in (0, 1)]
    customers, n_order = [], 0
    for i, person in enumerate(drawn):
        month = person["birth_month"]
        customer = Customer.objects.create(
            number=900_000 + i,
            email=f"welt{i}@example.de",
            birthday=date(1990, month, 15) if month else None,
            source_shop=shops[person["shop"]] if person["shop"] is not None else None,
            erased_at=NOW - timedelta(days=1) if person["erased"] else None,
        )
        customer.tags.set([tags[t] for t in person["tags"]])
        if person["place"] is not None:
            postcode, city = PLACES[person["place"]]
            Address.objects.create(customer=customer, street="Weg 1", postcode=postcode, city=city)
        for days, hour, cents, cancelled, refunded, product_ids in person["orders"]:
            n_order += 1
            add_order(customer, shops[0], products, n_order, placed(days, hour), cents,
                      cancelled, refunded, product_ids)  # fmt: skip
        if person["member"] is not None:
            points, tier = person["member"]
            member = Member.objects.create(customer=customer, joined_at=NOW, points_balance=points)
            if tier is not None:
                MemberTier.objects.create(member=member, tier=tiers[tier], updated_at=NOW)
        if person["rfm"]:
            CustomerFigures.objects.create(
                customer=customer, first_order_at=NOW, last_order_at=NOW, first_month=1,
                orders=1, revenue_cents=1, recency_score=1, frequency_score=1,
                monetary_score=1, fm_score=1, segment=person["rfm"],
            )  # fmt: skip
        for days, hour, status, marketing, mail_events in person["mails"]:
            add_mail(customer, placed(days, hour), status, marketing, mail_events)
        customers.append(customer)
    # A mail to an address without a customer record, opened and clicked today: nobody's.
    add_mail(None, NOW, "sent", True, [("open", 0, 9), ("click", 0, 10)])
    refresh_customer_summaries([c.pk for c in customers])
    return World(customers, shops, products, categories, tags, tiers)


def add_order(customer, shop, products, n, placed_at, cents, cancelled, refunded, product_ids):
    """An order whose lines split `cents` over the products (exact, constraints hold)."""
    product_ids = sorted(product_ids)
    parts = [cents // len(product_ids)] * len(product_ids)
    parts[0] += cents - sum(parts)
    refunded_cents = {0: 0, 1: cents // 2, 2: cents}[refunded]
    order = Order.objects.create(
        shop=shop, external_id=f"O{customer.pk}-{n}", number=f"#{n}", customer=customer,
        status="cancelled" if cancelled else "paid", subtotal_cents=cents, total_cents=cents,
        tax_cents=0, net_cents=cents, refunded_cents=refunded_cents, placed_at=placed_at,
        cancelled_at=placed_at if cancelled else None,
    )  # fmt: skip
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=products[p],
            sku=products[p].sku,
            title=products[p].name,
            quantity=1,
            unit_price_cents=part,
            total_cents=part,
            tax_cents=0,
        )  # fmt: skip
        for p, part in zip(product_ids, parts, strict=True)
    )
    return order


def add_mail(customer, at: datetime, status: str, marketing: bool, mail_events) -> OutboundMessage:
    """An outbox row (sent at `at` if its status is sent) with opens and clicks."""
    key = f"welt:{customer.pk if customer else 'ohne'}:{OutboundMessage.objects.count()}"
    message = OutboundMessage.objects.create(
        key=key, customer=customer, to_email=customer.email if customer else "x@example.de",
        purpose="marketing" if marketing else "transactional", subject="Hallo",
        text_body="Hallo", message_id=OutboundMessage.message_id_for(key, "example.de"),
        status=status, not_before=at, created_at=at, sent_at=at if status == "sent" else None,
    )  # fmt: skip
    MessageEvent.objects.bulk_create(
        MessageEvent(message=message, kind=kind, at=placed(days, hour))
        for kind, days, hour in mail_events
    )
    return message


def as_rules(drawn_tree, world: World) -> dict:
    """The drawn tree as stored rules, indices turned into the world's ids."""
    id_lists = {
        "products": world.products, "categories": world.categories, "source_shop": world.shops,
        "loyalty_tier": world.tiers, "tags": world.tags,
    }  # fmt: skip
    match, groups = drawn_tree
    out = []
    for group_match, conditions in groups:
        rows = []
        for field, op, value in conditions:
            if field in id_lists:
                value = [str(id_lists[field][i].pk) for i in sorted(value)]
            elif field in ("rfm_segment", "birthday_month"):
                value = [str(v) for v in sorted(value)]
            rows.append({"field": field, "op": op, "value": value})
        out.append({"match": group_match, "conditions": rows})
    return {"version": 1, "match": match, "groups": out}


# -- The reference: the rules read over the drawn description, one customer at a time ---------


def _compare(op, have, want) -> bool:
    return {"gte": have >= want, "lte": have <= want, "eq": have == want}[op]


def _moment(op, moment: datetime | None, value) -> bool:
    if moment is None:
        return False
    day = moment.astimezone(BERLIN).date()
    if op == "within":
        return day >= TODAY - timedelta(days=value)
    if op == "not_within":
        return day < TODAY - timedelta(days=value)
    if op == "since":
        return day >= date.fromisoformat(value)
    return day < date.fromisoformat(value)


def _sets(op, have: set, want: set) -> bool:
    if op == "in":
        return bool(have & want)
    if op == "all":
        return want <= have
    return not have & want


def _engaged(mails: list, op: str, since: date) -> bool:
    if op == "received":
        return any(
            status == "sent" and marketing and placed(days, hour).date() >= since
            for days, hour, status, marketing, _events in mails
        )
    kinds = {"opened": {"open"}, "clicked": {"click"}}.get(op, {"open", "click"})
    seen = any(
        kind in kinds and placed(days, hour).date() >= since
        for *_mail, mail_events in mails
        for kind, days, hour in mail_events
    )
    return not seen if op == "unengaged" else seen


def holds(person: dict, field: str, op: str, value) -> bool:
    live = [o for o in person["orders"] if not o[3]]
    spent = sum(c - {0: 0, 1: c // 2, 2: c}[r] for _d, _h, c, _x, r, _p in live)
    moments = [placed(d, h) for d, h, *_ in live]
    bought = {p for o in live for p in o[5]}
    if field == "order_count":
        return _compare(op, len(live), value)
    if field == "total_spent":
        return _compare(op, spent, value)
    if field == "average_order_value":
        return bool(live) and _compare(op, Fraction(spent, len(live)), value)
    if field == "last_order":
        return _moment(op, max(moments, default=None), value)
    if field == "first_order":
        return _moment(op, min(moments, default=None), value)
    if field == "products":
        return _sets(op, bought, set(value))
    if field == "categories":
        return _sets(op, {PRODUCT_CATEGORY[p] for p in bought}, set(value))
    if field == "source_shop":
        return (person["shop"] in value) == (op == "in")
    if field == "rfm_segment":
        return (person["rfm"] in value) == (op == "in")
    if field == "loyalty_tier":
        tier = person["member"][1] if person["member"] else None
        return (tier in value) == (op == "in")
    if field == "points_balance":
        return _compare(op, person["member"][0] if person["member"] else 0, value)
    if field == "tags":
        return _sets(op, set(person["tags"]), set(value))
    if field == "birthday_month":
        return person["birth_month"] in value
    if field == "engagement":
        return _engaged(person["mails"], op, TODAY - timedelta(days=value))
    place = PLACES[person["place"]] if person["place"] is not None else None
    if field == "postcode":
        return place is not None and place[0].startswith(value)
    if field == "city":
        return place is not None and place[1].lower() == value.lower()
    raise AssertionError(field)


def expected(drawn: list[dict], drawn_tree) -> set[int]:
    """Indices of the drawn people the tree holds."""
    match, groups = drawn_tree
    combine = {"all": all, "any": any}
    found = set()
    for i, person in enumerate(drawn):
        if person["erased"]:
            continue
        results = [
            combine[group_match](holds(person, f, op, v) for f, op, v in conditions)
            for group_match, conditions in groups
        ]
        if not groups or combine[match](results):
            found.add(i)
    return found
