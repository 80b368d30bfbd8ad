"""Earning rules for actions: saving rules, recording an action, the daily birthday and
anniversary awards.

Every award is an `earn` row (available at once) written through `ledger._append` under
the member's row lock, with an `ActionAward` beside it. Its key `rule:<rule>:<member>:<occasion>`
is unique in the ledger, so a replayed request, event or job run awards nothing twice; the
limits (once, once per calendar year) are counted under the lock, so two requests at the
same moment cannot both pass them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.loyalty import selectors
from treu.loyalty.models import (
    EVENT_NAME,
    ActionAward,
    ActionRule,
    ActionTrigger,
    EntryKind,
    EntryStatus,
    Member,
    Membership,
    MemberTier,
    PointsEntry,
    RuleLimit,
    SocialNetwork,
)
from treu.loyalty.models.action_rules import DATED_TRIGGERS, REPORTED_TRIGGERS
from treu.loyalty.services.ledger import (
    LoyaltyError,
    _append,
    _lock_member,
    _lock_members,
    _release,
)
from treu.loyalty.services.programme import join_program, started

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from treu.customers.models import Customer

log = logging.getLogger(__name__)

ACTION_RULE_FIELDS = (
    "name", "active", "starts_on", "ends_on", "limit", "trigger", "points", "network", "event",
)  # fmt: skip
REFERENCE_MAX = 60
# A birthday entered fewer days ahead than this earns nothing that year.
BIRTHDAY_NOTICE_DAYS = 30
# The daily job also looks this many days back, so a missed day (or three) is caught up.
CATCH_UP_DAYS = 3
# Members per transaction of the daily job: short locks.
JOB_CHUNK = 1000

# Why nothing was awarded (stable codes, e.g. for the API).
NOT_STARTED = "not_started"
NOT_MEMBER = "not_member"
NO_RULE = "no_rule"
NOT_ELIGIBLE = "not_eligible"
LIMIT_REACHED = "limit_reached"
ALREADY_RECORDED = "already_recorded"


def _messages() -> dict[str, str]:
    return {
        NOT_STARTED: _("The loyalty programme has not been set up yet."),
        NOT_MEMBER: _("Not a member of the loyalty programme: no points."),
        NO_RULE: _("No active rule for this action: no points."),
        NOT_ELIGIBLE: _("No rule for this action applies to the member's tier: no points."),
        LIMIT_REACHED: _("Limit reached: this action has already earned all the rules allow."),
        ALREADY_RECORDED: _("This action was already recorded: no further points."),
    }


@dataclass(frozen=True)
class ActionOutcome:
    """What recording an action did: the awards written now, or why there were none."""

    member: Member | None
    awards: list[ActionAward] = field(default_factory=list)
    reason: str = ""

    @property
    def points(self) -> int:
        return sum(award.entry.points for award in self.awards)

    @property
    def message(self) -> str:
        return _messages().get(self.reason, "")


# -- Rules ------------------------------------------------------------------------------------


def _clean_rule(rule: ActionRule) -> None:
    errors: dict[str, list[str]] = {}
    rule.name = rule.name.strip()
    rule.event = (rule.event or "").strip().lower()
    rule.network = rule.network or ""
    if rule.trigger == ActionTrigger.CUSTOM:
        if not rule.event:
            errors["event"] = [_("Name the event the shop will send, e.g. workshop_besucht.")]
        elif not EVENT_NAME.match(rule.event):
            errors["event"] = [
                _(
                    "Use 2 to 50 lower-case letters (a–z), digits, - or _, starting with a "
                    "letter, e.g. workshop_besucht."
                )
            ]
    else:
        rule.event = ""  # only a custom event has a name
    if rule.trigger != ActionTrigger.SOCIAL:
        rule.network = ""
    if rule.starts_on and rule.ends_on and rule.ends_on < rule.starts_on:
        errors["ends_on"] = [_("The last day cannot lie before the first.")]
    try:
        # The constraints are what is checked above, with better words (and the database
        # holds them anyway).
        rule.full_clean(validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise LoyaltyError(errors)


@transaction.atomic
def save_action_rule(
    *,
    rule: ActionRule | None = None,
    eligible_tiers: Iterable[Any] | None = None,
    **fields: Any,
) -> ActionRule:
    """Create or change an earning rule for an action; German messages per field.

    Rules are never deleted (awards point at them): switch one off with `active=False`.
    """
    unknown = set(fields) - set(ACTION_RULE_FIELDS)
    if unknown:
        raise TypeError(f"Not an action rule field: {sorted(unknown)}")
    rule = rule or ActionRule()
    for name, value in fields.items():
        setattr(rule, name, value)
    _clean_rule(rule)
    rule.save()
    if eligible_tiers is not None:
        rule.eligible_tiers.set(list(eligible_tiers))
    return rule


# -- Recording an action ----------------------------------------------------------------------


def _clean_action(action: str, reference: str, network: str, event: str) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    reference, network, event = reference.strip(), network.strip().lower(), event.strip().lower()
    if action not in REPORTED_TRIGGERS:
        errors["action"] = [_("Choose one of: review, survey, newsletter, social, custom.")]
    if action == ActionTrigger.SOCIAL:
        if network not in SocialNetwork.values:
            errors["network"] = [
                _("Name the network: %(networks)s.") % {"networks": ", ".join(SocialNetwork.values)}
            ]
        reference = network  # once per network, whatever else is sent
    elif not reference:
        errors["reference"] = [_("Send a reference for this action, e.g. the review's id.")]
    if len(reference) > REFERENCE_MAX:
        errors["reference"] = [
            _("The reference may have at most %(n)d characters.") % {"n": REFERENCE_MAX}
        ]
    if action == ActionTrigger.CUSTOM and not EVENT_NAME.match(event):
        errors["event"] = [
            _("Name the custom event as the rule does, e.g. workshop_besucht.")
            if not event
            else _("This is no event name: use lower-case letters, digits, - and _.")
        ]
    if errors:
        raise LoyaltyError(errors)
    return reference, network, event


def _berlin_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _tier_of(member_ids: Iterable[int]) -> dict[int, int | None]:
    return dict(
        MemberTier.objects.filter(member_id__in=list(member_ids)).values_list(
            "member_id", "tier_id"
        )
    )


def _eligible(rule: ActionRule, tier_id: int | None) -> bool:
    tiers = {t.pk for t in rule.eligible_tiers.all()}  # prefetched
    return not tiers or tier_id in tiers


def _key(rule: ActionRule, member_id: int, reference: str) -> str:
    return f"rule:{rule.pk}:{member_id}:{reference}"


def _matching_rules(action: str, network: str, event: str, day: date) -> list[ActionRule]:
    rules = ActionRule.objects.filter(trigger=action, active=True).prefetch_related(
        "eligible_tiers"
    )
    if action == ActionTrigger.SOCIAL:
        rules = rules.filter(network__in=["", network])
    if action == ActionTrigger.CUSTOM:
        rules = rules.filter(event=event)
    return [rule for rule in rules.order_by("pk") if rule.runs_on(day)]


def _entry(
    member: Member,
    rule: ActionRule,
    key: str,
    *,
    now: datetime,
    note: str,
    staff_user: AbstractBaseUser | None = None,
) -> PointsEntry:
    return PointsEntry(
        member=member,
        kind=EntryKind.EARN,
        points=rule.points,
        status=EntryStatus.AVAILABLE,
        available_at=now,
        source_rule=rule.trigger,
        key=key,
        reason=f"{rule.name} ({note})"[:200],
        staff_user=staff_user,
    )


@transaction.atomic
def record_action(
    *,
    customer: Customer,
    action: str,
    reference: str = "",
    network: str = "",
    event: str = "",
    staff_user: AbstractBaseUser | None = None,
    occurred_at: datetime | None = None,
    source: str = "",
    now: datetime | None = None,
) -> ActionOutcome:
    """Award the points a customer's action earns under the active rules, once per occasion.

    Every active rule matching the action awards on its own (a campaign rule adds to the
    standing one), within its window (the Berlin day of `occurred_at`), its limit and its
    tiers. Social media: each network earns once in a member's life, whatever the rules'
    limits. Bad input raises LoyaltyError (per field) and writes nothing; an action that
    earns nothing is answered with the reason (see `ActionOutcome.message`).
    """
    now = now or timezone.now()
    occurred_at = occurred_at or now
    reference, network, event = _clean_action(action, reference, network, event)
    program = selectors.program_settings()
    if started(program) is None:
        return ActionOutcome(member=None, reason=NOT_STARTED)
    day = timezone.localdate(occurred_at, timezone.get_default_timezone())
    rules = _matching_rules(action, network, event, day)
    member = selectors.member_of(customer.pk)
    if member is None:
        if program.membership != Membership.ALL or getattr(customer, "erased_at", None):
            return ActionOutcome(member=None, reason=NOT_MEMBER)
        if not rules:
            return ActionOutcome(member=None, reason=NO_RULE)
        # Every customer is a member: the row is made at the first occasion that needs it.
        member = join_program(customer=customer, now=now, source=source)
    if not rules:
        return ActionOutcome(member=member, reason=NO_RULE)
    member = _lock_member(member, now=now)
    tier_id = _tier_of([member.pk]).get(member.pk)
    rules = [rule for rule in rules if _eligible(rule, tier_id)]
    if not rules:
        return ActionOutcome(member=member, reason=NOT_ELIGIBLE)
    keys = {rule.pk: _key(rule, member.pk, reference) for rule in rules}
    recorded = set(PointsEntry.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    past = ActionAward.objects.filter(rule__in=rules, entry__member=member)
    once_done = set(past.values_list("rule_id", flat=True))
    year_done = set(past.filter(year=day.year).values_list("rule_id", flat=True))
    network_done = (
        action == ActionTrigger.SOCIAL
        and ActionAward.objects.filter(
            entry__member=member, trigger=ActionTrigger.SOCIAL, network=network
        ).exists()
    )
    due, reasons = [], set()
    for rule in rules:
        if keys[rule.pk] in recorded:
            reasons.add(ALREADY_RECORDED)
        elif (
            network_done
            or (rule.limit == RuleLimit.ONCE and rule.pk in once_done)
            or (rule.limit == RuleLimit.PER_YEAR and rule.pk in year_done)
        ):
            reasons.add(LIMIT_REACHED)
        else:
            due.append(rule)
    if not due:
        reason = ALREADY_RECORDED if ALREADY_RECORDED in reasons else LIMIT_REACHED
        return ActionOutcome(member=member, reason=reason)
    entries = [
        _entry(member, rule, keys[rule.pk], now=now, note=reference, staff_user=staff_user)
        for rule in due
    ]
    _append([(member, entries)], program=program, now=now, source=source)
    awards = ActionAward.objects.bulk_create(
        ActionAward(
            entry=entry,
            rule=rule,
            trigger=action,
            reference=reference,
            network=network,
            year=day.year,
        )
        for rule, entry in zip(due, entries, strict=True)
    )
    return ActionOutcome(member=member, awards=awards)


def staff_reference() -> str:
    """A reference for an action staff record without one (each such recording counts)."""
    return f"staff:{uuid.uuid4().hex[:12]}"


# -- Events of other apps ---------------------------------------------------------------------

# The payload field holding each event's occasion (see docs/architecture.md, *Events loyalty
# listens to*); the customer is the event's customer.
EVENT_REFERENCES = {
    ActionTrigger.REVIEW: "review_id",
    ActionTrigger.SURVEY: "survey_id",
    ActionTrigger.NEWSLETTER: "consent_id",
}


def record_action_of_event(event: Any, *, action: str) -> ActionOutcome | None:
    """An action another app published (`review.published` …); None when unusable.

    A payload without the customer or the reference is logged and skipped: it is the
    publisher's mistake, and retrying would not mend it.
    """
    from treu.customers import selectors as customer_selectors

    reference = event.payload.get(EVENT_REFERENCES[action])
    customer = customer_selectors.customer_by_id(event.customer_id) if event.customer_id else None
    if customer is None or reference in (None, ""):
        log.warning("Event %s (%s) names no customer or reference; no points.", event.pk, action)
        return None
    try:
        return record_action(
            customer=customer,
            action=action,
            reference=str(reference),
            occurred_at=event.occurred_at,
            source=event.kind,
        )
    except LoyaltyError:
        log.warning("Event %s (%s) has an unusable reference; no points.", event.pk, action)
        return None


# -- Birthdays and anniversaries (the daily job) ----------------------------------------------


def _on_day(lookup: str, day: date) -> Q:
    """This month and day; 29 February celebrates on 28 February in other years."""
    q = Q(**{f"{lookup}__month": day.month, f"{lookup}__day": day.day})
    leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
    if day.month == 2 and day.day == 28 and not leap:
        q |= Q(**{f"{lookup}__month": 2, f"{lookup}__day": 29})
    return q


def _celebrating(trigger: str, day: date) -> list[int]:
    """Ids of the members whose birthday (or first purchase's anniversary) is this day."""
    next_day = _berlin_day_start(day + timedelta(days=1))
    members = Member.objects.filter(customer__erased_at__isnull=True, joined_at__lt=next_day)
    if trigger == ActionTrigger.BIRTHDAY:
        # Entered at least BIRTHDAY_NOTICE_DAYS ahead (empty: known from before it was recorded).
        cutoff = _berlin_day_start(day - timedelta(days=BIRTHDAY_NOTICE_DAYS - 1))
        members = members.filter(
            _on_day("customer__birthday", day),
            Q(customer__birthday_entered_at__isnull=True)
            | Q(customer__birthday_entered_at__lt=cutoff),
            customer__birthday__year__lt=day.year,
        )
    else:
        members = members.filter(
            _on_day("customer__first_order_at", day),
            customer__first_order_at__lt=_berlin_day_start(date(day.year, 1, 1)),
        )
    return list(members.order_by("pk").values_list("pk", flat=True))


def award_dated_points(
    *, trigger: str, today: date | None = None, now: datetime | None = None
) -> int:
    """Birthday or anniversary points for today and the CATCH_UP_DAYS before; returns points.

    Set-based: per rule and day one query for the members celebrating, then per chunk of
    members one transaction with a fixed number of queries. Running it again awards nothing
    twice (the ledger key holds the year).
    """
    if trigger not in DATED_TRIGGERS:
        raise ValueError(f"Not a dated trigger: {trigger}")
    now = now or timezone.now()
    today = today or timezone.localdate(now, timezone.get_default_timezone())
    program = selectors.program_settings()
    if started(program) is None:
        return 0
    rules = list(
        ActionRule.objects.filter(trigger=trigger, active=True)
        .prefetch_related("eligible_tiers")
        .order_by("pk")
    )
    awarded = 0
    for offset in range(CATCH_UP_DAYS, -1, -1):
        day = today - timedelta(days=offset)
        running = [rule for rule in rules if rule.runs_on(day)]
        if not running:
            continue
        ids = _celebrating(trigger, day)
        for rule in running:
            for start in range(0, len(ids), JOB_CHUNK):
                awarded += _award_day_chunk(rule, ids[start : start + JOB_CHUNK], day, now)
    return awarded


@transaction.atomic
def _award_day_chunk(rule: ActionRule, member_ids: list[int], day: date, now: datetime) -> int:
    program = selectors.program_settings()
    members = _lock_members(member_ids)
    _release(members, now=now)
    tiers = _tier_of(members)
    reference = str(day.year)
    keys = {member_id: _key(rule, member_id, reference) for member_id in members}
    recorded = set(PointsEntry.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    done: set[int] = set()
    if rule.limit == RuleLimit.ONCE:
        done = set(
            ActionAward.objects.filter(rule=rule, entry__member_id__in=list(members)).values_list(
                "entry__member_id", flat=True
            )
        )
    groups = []
    for member_id, member in members.items():
        if keys[member_id] in recorded or member_id in done:
            continue
        if not _eligible(rule, tiers.get(member_id)):
            continue
        groups.append((member, [_entry(member, rule, keys[member_id], now=now, note=reference)]))
    if not groups:
        return 0
    _append(groups, program=program, now=now, source="job")
    ActionAward.objects.bulk_create(
        ActionAward(
            entry=entries[0],
            rule=rule,
            trigger=rule.trigger,
            reference=reference,
            year=day.year,
        )
        for _member, entries in groups
    )
    return rule.points * len(groups)


def award_birthday_points(*, today: date | None = None, now: datetime | None = None) -> int:
    return award_dated_points(trigger=ActionTrigger.BIRTHDAY, today=today, now=now)


def award_anniversary_points(*, today: date | None = None, now: datetime | None = None) -> int:
    return award_dated_points(trigger=ActionTrigger.ANNIVERSARY, today=today, now=now)
