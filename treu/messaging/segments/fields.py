"""The fields a segment rule can test, in a registry other apps (and later parts) add to.

A field says what its value looks like (`kind`), which operators it allows, where the
editor's choices come from, how a condition becomes a `Q` over customers, and after
which events a customer's answer may change (`triggers`: the event-driven update listens
to them). Adding one is a few lines; consent does it like this, once it exists:

    register_field(RuleField(
        key="email_consent", label=_("Email consent"), group=_("Consent"), kind=CHOICE,
        operators=(IN, NOT_IN), choices=lambda: [("confirmed", _("confirmed")), ...],
        compile=lambda op, value, ctx: ..., triggers=("consent.confirmed", ...),
    ))

Reads of other apps go only through their selectors. Each `compile` returns a `Q` over
customers (fields of the customer row, or an `Exists` over the other app's rows for
`OuterRef("pk")`), so a whole rule tree is one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from treu.analytics import rfm
from treu.analytics import selectors as analytics_selectors
from treu.commerce import selectors as commerce_selectors
from treu.customers import selectors as customer_selectors
from treu.loyalty import selectors as loyalty_selectors
from treu.loyalty import tier_selectors

# Kinds of value.
NUMBER = "number"  # a whole number >= 0
MONEY = "money"  # euro cents >= 0 (the editor takes euros)
RECENCY = "recency"  # a moment: within / not within N days, or on/after / before a date
CHOICE = "choice"  # one or more of the field's choices
PREFIX = "prefix"  # text the value starts with
TEXT = "text"  # text equal to the value, any case
DAYS = "days"  # a number of days back; the operator says what happened in them

# Operators.
GTE, LTE, EQ = "gte", "lte", "eq"
WITHIN_DAYS, NOT_WITHIN_DAYS, ON_OR_AFTER, BEFORE = "within", "not_within", "since", "before"
IN, ALL, NOT_IN = "in", "all", "not_in"
STARTS_WITH, IS = "starts_with", "is"
OPENED, CLICKED, ENGAGED, UNENGAGED = "opened", "clicked", "engaged", "unengaged"
RECEIVED = "received"

OPERATOR_LABELS: dict[str, Promise] = {
    GTE: _("at least"),
    LTE: _("at most"),
    EQ: _("exactly"),
    WITHIN_DAYS: _("within the last … days"),
    NOT_WITHIN_DAYS: _("not within the last … days"),
    ON_OR_AFTER: _("on or after"),
    BEFORE: _("before"),
    IN: _("any of"),
    ALL: _("all of"),
    NOT_IN: _("none of"),
    STARTS_WITH: _("starts with"),
    IS: _("is"),
    ENGAGED: _("opened or clicked a mail within the last … days"),
    OPENED: _("opened a mail within the last … days"),
    CLICKED: _("clicked a link in a mail within the last … days"),
    UNENGAGED: _("neither opened nor clicked a mail within the last … days"),
    RECEIVED: _("received a marketing mail within the last … days"),
}

DEFAULT_OPERATORS: dict[str, tuple[str, ...]] = {
    NUMBER: (GTE, LTE, EQ),
    MONEY: (GTE, LTE),
    RECENCY: (WITHIN_DAYS, NOT_WITHIN_DAYS, ON_OR_AFTER, BEFORE),
    CHOICE: (IN, NOT_IN),
    PREFIX: (STARTS_WITH,),
    TEXT: (IS,),
    DAYS: (ENGAGED, OPENED, CLICKED, UNENGAGED, RECEIVED),
}

MAX_DAYS = 36_500
MAX_NUMBER = 10**12


@dataclass(frozen=True)
class RuleContext:
    """What a condition is judged against: the moment (time-based rules)."""

    now: datetime

    def day_start(self, day: date) -> datetime:
        """Midnight at the start of a Berlin day."""
        return timezone.make_aware(datetime.combine(day, time.min))

    def days_ago(self, days: int) -> datetime:
        """The start of the Berlin day `days` days before today: "within the last 30 days"
        means since midnight 30 days ago, so a rule changes its answer once a day."""
        return self.day_start(timezone.localdate(self.now) - timedelta(days=days))


@dataclass(frozen=True)
class RuleField:
    key: str
    label: Promise | str
    group: Promise | str
    kind: str
    compile: Callable[[str, Any, RuleContext], Q]
    operators: tuple[str, ...] = ()
    choices: Callable[[], Iterable[tuple[Any, str]]] | None = None
    triggers: tuple[str, ...] = ()
    help_text: Promise | str = ""
    order: int = 100
    extra: dict = field(default_factory=dict)

    @property
    def allowed_operators(self) -> tuple[str, ...]:
        return self.operators or DEFAULT_OPERATORS[self.kind]

    def choice_list(self) -> list[tuple[str, str]]:
        """The choices with their values as text (what forms and the stored rules hold)."""
        return [(str(value), str(label)) for value, label in (self.choices or list)()]


_fields: dict[str, RuleField] = {}
_trigger_listeners: list[Callable[[str], None]] = []


def register_field(rule_field: RuleField) -> None:
    """Add (or replace) a field; its trigger events start updating memberships at once."""
    _fields[rule_field.key] = rule_field
    for kind in rule_field.triggers:
        for listener in _trigger_listeners:
            listener(kind)


def get_field(key: str) -> RuleField | None:
    return _fields.get(key)


def all_fields() -> list[RuleField]:
    return sorted(_fields.values(), key=lambda f: (f.order, f.key))


def trigger_kinds() -> set[str]:
    return {kind for f in _fields.values() for kind in f.triggers}


def on_new_trigger(listener: Callable[[str], None]) -> None:
    """Call `listener(kind)` for every trigger kind, now and whenever a field adds one."""
    _trigger_listeners.append(listener)
    for kind in sorted(trigger_kinds()):
        listener(kind)


# -- Building blocks --------------------------------------------------------------------------


def compare(column: str) -> Callable[[str, Any, RuleContext], Q]:
    def compile_(op: str, value: int, ctx: RuleContext) -> Q:
        lookup = {GTE: "gte", LTE: "lte", EQ: "exact"}[op]
        return Q(**{f"{column}__{lookup}": value})

    return compile_


def moment(column: str) -> Callable[[str, Any, RuleContext], Q]:
    """A nullable moment: customers without one (no order yet) match no operator."""

    def compile_(op: str, value, ctx: RuleContext) -> Q:
        if op == WITHIN_DAYS:
            return Q(**{f"{column}__gte": ctx.days_ago(value)})
        if op == NOT_WITHIN_DAYS:
            return Q(**{f"{column}__lt": ctx.days_ago(value)})
        day = date.fromisoformat(value)
        if op == ON_OR_AFTER:
            return Q(**{f"{column}__gte": ctx.day_start(day)})
        return Q(**{f"{column}__lt": ctx.day_start(day)})

    return compile_


def exists(rows_for: Callable[..., Any]) -> Callable[[str, Any, RuleContext], Q]:
    """IN: has such a row; NOT_IN: has none; ALL: has one for every value."""

    def compile_(op: str, values: list, ctx: RuleContext) -> Q:
        if op == ALL:
            q = Q()
            for value in values:
                q &= Q(Exists(rows_for(OuterRef("pk"), [value])))
            return q
        found = Exists(rows_for(OuterRef("pk"), values))
        return Q(found) if op == IN else ~Q(found)

    return compile_


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values]


def _average_order_value(op: str, cents: int, ctx: RuleContext) -> Q:
    # spent / orders >= v  <=>  spent >= v × orders (whole cents, no division, no rounding)
    lookup = "gte" if op == GTE else "lte"
    return Q(order_count__gt=0, **{f"total_spent_cents__{lookup}": F("order_count") * cents})


def _points(op: str, points: int, ctx: RuleContext) -> Q:
    # Customers outside the programme count as 0 points.
    if op == GTE:
        if points <= 0:
            return Q()
        return Q(
            Exists(loyalty_selectors.members_with_points(customer=OuterRef("pk"), at_least=points))
        )
    return ~Q(
        Exists(loyalty_selectors.members_with_points(customer=OuterRef("pk"), more_than=points))
    )


def _source_shop(op: str, values: list, ctx: RuleContext) -> Q:
    # ~Q on the nullable column keeps customers without a source shop in NOT_IN.
    q = Q(source_shop_id__in=_ids(values))
    return q if op == IN else ~q


def _month_choices() -> list[tuple[int, str]]:
    from django.utils.dates import MONTHS

    return [(n, str(MONTHS[n])) for n in range(1, 13)]


def _birthday_month(op: str, values: list, ctx: RuleContext) -> Q:
    return Q(birthday__month__in=_ids(values))


def _postcode(op: str, prefix: str, ctx: RuleContext) -> Q:
    rows = customer_selectors.addresses_matching(customer=OuterRef("pk"), postcode_prefix=prefix)
    return Q(Exists(rows))


def _city(op: str, city: str, ctx: RuleContext) -> Q:
    return Q(Exists(customer_selectors.addresses_matching(customer=OuterRef("pk"), city=city)))


ORDER_EVENTS = ("order.ingested", "order.updated", "order.cancelled", "order.refunded")
CUSTOMER_EVENTS = (
    "customer.created", "customer.updated", "customer.merged", "customer.tags_changed",
)  # fmt: skip


def _email_consent(op: str, values: list, ctx: RuleContext) -> Q:
    # Consent is messaging's own: the same condition campaigns use to decide who may be mailed.
    from treu.messaging import selectors as messaging_selectors

    if set(values) == {"given", "missing"}:
        return Q()
    given = messaging_selectors.marketing_consent_condition()
    return given if values == ["given"] else ~given


CONSENT_EVENTS = ("consent.requested", "consent.confirmed", "consent.withdrawn")


def _engagement(op: str, days: int, ctx: RuleContext) -> Q:
    # Messaging's own rows: opens and clicks (`MessageEvent`), mails sent (the outbox).
    from treu.messaging import selectors as messaging_selectors

    since = ctx.days_ago(days)
    if op == RECEIVED:
        sent = messaging_selectors.marketing_mails_sent(customer=OuterRef("pk"), since=since)
        return Q(Exists(sent))
    kinds = {OPENED: ["open"], CLICKED: ["click"]}.get(op, ["open", "click"])
    found = Exists(
        messaging_selectors.mail_events(customer=OuterRef("pk"), kinds=kinds, since=since)
    )
    return ~Q(found) if op == UNENGAGED else Q(found)


ENGAGEMENT_EVENTS = ("message.opened", "message.clicked")


def register_builtin_fields() -> None:
    purchases, loyalty, person, mails = _("Purchases"), _("Loyalty"), _("Person"), _("Emails")
    builtin = [
        RuleField(
            "order_count", _("Number of orders"), purchases, NUMBER, compare("order_count"),
            triggers=ORDER_EVENTS, order=10,
            help_text=_("Cancelled orders do not count."),
        ),
        RuleField(
            "total_spent", _("Total spent"), purchases, MONEY, compare("total_spent_cents"),
            triggers=ORDER_EVENTS, order=11,
            help_text=_("Gross, less refunds; cancelled orders do not count."),
        ),
        RuleField(
            "average_order_value", _("Average order value"), purchases, MONEY,
            _average_order_value, triggers=ORDER_EVENTS, order=12,
        ),
        RuleField(
            "last_order", _("Last order"), purchases, RECENCY, moment("last_order_at"),
            triggers=ORDER_EVENTS, order=13,
        ),
        RuleField(
            "first_order", _("First order"), purchases, RECENCY, moment("first_order_at"),
            triggers=ORDER_EVENTS, order=14,
        ),
        RuleField(
            "products", _("Products bought"), purchases, CHOICE,
            exists(lambda c, v: commerce_selectors.lines_bought(customer=c, product_ids=_ids(v))),
            operators=(IN, ALL, NOT_IN), triggers=ORDER_EVENTS, order=15,
            choices=lambda: commerce_selectors.product_list().values_list("pk", "name"),
        ),
        RuleField(
            "categories", _("Categories bought"), purchases, CHOICE,
            exists(
                lambda c, v: commerce_selectors.lines_bought(customer=c, category_ids=_ids(v))
            ),
            operators=(IN, ALL, NOT_IN), triggers=ORDER_EVENTS, order=16,
            choices=lambda: commerce_selectors.product_categories().values_list("pk", "name"),
        ),
        RuleField(
            "source_shop", _("Source shop"), purchases, CHOICE, _source_shop,
            triggers=CUSTOMER_EVENTS, order=17,
            choices=lambda: commerce_selectors.shops().values_list("pk", "name"),
        ),
        RuleField(
            "rfm_segment", _("RFM segment"), purchases, CHOICE,
            exists(
                lambda c, v: analytics_selectors.figures_in_segments(customer=c, segments=v)
            ),
            order=18,
            choices=lambda: [(s.value, s.label) for s in rfm.SEGMENT_ORDER],
            help_text=_("As of the last analytics recompute (nightly)."),
        ),
        RuleField(
            "loyalty_tier", _("Loyalty tier"), loyalty, CHOICE,
            exists(lambda c, v: loyalty_selectors.members_in_tiers(customer=c, tier_ids=_ids(v))),
            triggers=("loyalty.tier_changed",), order=30,
            choices=lambda: [(t.pk, t.name) for t in tier_selectors.tier_list()],
        ),
        RuleField(
            "points_balance", _("Points balance"), loyalty, NUMBER, _points,
            operators=(GTE, LTE), triggers=("loyalty.points_changed", "loyalty.member_joined"),
            order=31, help_text=_("Available points; customers outside the programme have 0."),
        ),
        RuleField(
            "email_consent", _("Email marketing consent"), person, CHOICE, _email_consent,
            operators=(IN,), triggers=CONSENT_EVENTS, order=49,
            choices=lambda: [("given", _("given")), ("missing", _("not given"))],
            help_text=_("Valid permission for marketing mails (double opt-in confirmed, or the "
                        "existing-customer basis), not withdrawn."),
        ),
        RuleField(
            "engagement", _("Email engagement"), mails, DAYS, _engagement,
            triggers=ENGAGEMENT_EVENTS, order=48,
            help_text=_("Opens count only where the customer allowed measuring them; clicks "
                        "through treu's link redirect always. By Berlin calendar day."),
        ),
        RuleField(
            "tags", _("Tags"), person, CHOICE,
            exists(lambda c, v: customer_selectors.tag_links(customer=c, tag_ids=_ids(v))),
            operators=(IN, ALL, NOT_IN), triggers=CUSTOMER_EVENTS, order=50,
            choices=lambda: customer_selectors.all_tags().values_list("pk", "name"),
        ),
        RuleField(
            "birthday_month", _("Birthday month"), person, CHOICE, _birthday_month,
            operators=(IN,), triggers=CUSTOMER_EVENTS, order=51, choices=_month_choices,
        ),
        RuleField(
            "postcode", _("Postcode"), person, PREFIX, _postcode,
            triggers=CUSTOMER_EVENTS, order=52, extra={"max_length": 16},
            help_text=_("Any of the customer's addresses; \"8\" finds 80331 and 86150."),
        ),
        RuleField(
            "city", _("City"), person, TEXT, _city, triggers=CUSTOMER_EVENTS, order=53,
            extra={"max_length": 100},
        ),
    ]  # fmt: skip
    for rule_field in builtin:
        register_field(rule_field)
