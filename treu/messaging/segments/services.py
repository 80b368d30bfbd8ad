"""Writes of segments: saving and deleting them, and keeping their stored members current.

Two ways keep `SegmentMembership` equal to what the rules say:

- `refresh_segment`: the whole segment, set-based: one INSERT … SELECT of the customers
  the rules hold who are not stored yet, one DELETE of the stored ones the rules no longer
  hold, in one transaction. Member ids never pass through Python (only the changed ones
  come back, for the events; the first fill publishes none).
- `update_memberships`: a few customers (those an order, a points change or an edit just
  touched) against every active segment: one query per segment restricted to those ids.

Both lock the segment row first, so they never interleave on one segment, and both
publish `segment.entered` / `segment.left` for the changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.events import NewEvent
from treu.messaging.models import Segment, SegmentMembership
from treu.messaging.segments import rules, selectors
from treu.messaging.segments.events import SEGMENT_ENTERED, SEGMENT_LEFT

log = logging.getLogger(__name__)


class SegmentError(ValidationError):
    """A refused segment change; German messages per field ("name", "rules")."""


@dataclass(frozen=True)
class Changes:
    entered: int
    left: int


# -- Saving -----------------------------------------------------------------------------------


@transaction.atomic
def save_segment(
    *,
    segment: Segment | None = None,
    name: str,
    rules_tree: dict,
    description: str = "",
    active: bool = True,
    by=None,
) -> Segment:
    """Create or change a segment; its members are refreshed in the worker after the commit."""
    name = " ".join(name.split())
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the segment a name.")]
    elif len(name) > 100:
        errors["name"] = [_("At most 100 characters.")]
    elif (
        Segment.objects.filter(name__iexact=name).exclude(pk=getattr(segment, "pk", None)).exists()
    ):
        errors["name"] = [_("A segment with this name already exists.")]
    if len(description) > 300:
        errors["description"] = [_("At most 300 characters.")]
    try:
        tree = rules.normalise(rules_tree)
    except rules.RuleError as error:
        errors["rules"] = error.messages
    if errors:
        raise SegmentError(errors)
    if segment is None:
        segment = Segment(created_by=by)
    segment.name, segment.description, segment.rules = name, description.strip(), tree
    segment.active = active
    segment.save()
    transaction.on_commit(selectors.forget_active_segments)
    selectors.forget_active_segments()
    if active:
        from treu.messaging.segments import tasks

        segment_id = segment.pk
        transaction.on_commit(lambda: tasks.refresh_segment_task(segment_id))
    return segment


@transaction.atomic
def delete_segment(segment: Segment) -> None:
    # Memberships first, as one DELETE (not the collector's row-by-row cascade).
    memberships = SegmentMembership.objects.filter(segment=segment)
    memberships._raw_delete(memberships.db)
    segment.delete()
    transaction.on_commit(selectors.forget_active_segments)


# -- Full refresh -----------------------------------------------------------------------------


def _sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


@transaction.atomic
def refresh_segment(segment_id: int, *, now: datetime | None = None) -> Changes | None:
    """Make the stored members of one segment exactly what its rules say, set-based.

    None when the segment is gone or inactive. The first fill publishes no events (no one
    "entered" a segment that did not exist before); later refreshes publish per change.
    """
    segment = Segment.objects.select_for_update().filter(pk=segment_id, active=True).first()
    if segment is None:
        return None
    now = now or timezone.now()
    try:  # the stored rules are normalised already
        wanted = rules.members(segment.rules, now=now)
    except (rules.RuleError, KeyError, TypeError):
        log.exception("Segment %s has rules that no longer compile; not refreshed", segment.pk)
        return None
    table = SegmentMembership._meta.db_table
    first_fill = segment.refreshed_at is None
    returning = "" if first_fill else " RETURNING customer_id"

    new = wanted.exclude(
        Exists(SegmentMembership.objects.filter(segment_id=segment.pk, customer_id=OuterRef("pk")))
    ).values(new_id=F("pk"))
    new_sql, new_params = _sql(new)
    gone = (
        SegmentMembership.objects.filter(segment_id=segment.pk)
        .exclude(Exists(wanted.filter(pk=OuterRef("customer_id"))))
        .values_list("pk")
    )
    gone_sql, gone_params = _sql(gone)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (segment_id, customer_id, since) "  # noqa: S608
            f"SELECT %s, new.new_id, %s FROM ({new_sql}) AS new{returning}",
            (segment.pk, connection.ops.adapt_datetimefield_value(now), *new_params),
        )
        entered = [row[0] for row in cursor.fetchall()] if returning else []
        entered_count = cursor.rowcount if first_fill else len(entered)
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN ({gone_sql}){returning}",  # noqa: S608
            gone_params,
        )
        left = [row[0] for row in cursor.fetchall()] if returning else []
        left_count = cursor.rowcount if first_fill else len(left)
    segment.member_count = SegmentMembership.objects.filter(segment_id=segment.pk).count()
    segment.refreshed_at = now
    segment.save(update_fields=["member_count", "refreshed_at", "updated_at"])
    _publish(segment, entered, left, now)
    return Changes(entered=max(entered_count, 0), left=max(left_count, 0))


def refresh_all_segments(*, now: datetime | None = None) -> dict[int, Changes]:
    """Every active segment, one transaction each (time-based rules move with the clock)."""
    now = now or timezone.now()
    done = {}
    for segment_id in (
        Segment.objects.filter(active=True).order_by("pk").values_list("pk", flat=True)
    ):
        changes = refresh_segment(segment_id, now=now)
        if changes is not None:
            done[segment_id] = changes
    return done


# -- Event-driven update ----------------------------------------------------------------------


def update_memberships(customer_ids: Iterable[int], *, now: datetime | None = None) -> Changes:
    """Re-judge a few customers against every active segment, one query per segment.

    Segments never refreshed yet are left to their first fill. Without any active segment
    it reads nothing (see `selectors.any_active_segment`).
    """
    ids = sorted({int(i) for i in customer_ids if i is not None})
    if not ids or not selectors.any_active_segment():
        return Changes(0, 0)
    return _update_memberships(ids, now or timezone.now())


@transaction.atomic
def _update_memberships(ids: list[int], now: datetime) -> Changes:
    segments = list(
        Segment.objects.select_for_update()
        .filter(active=True, refreshed_at__isnull=False)
        .order_by("pk")
    )
    if not segments:
        return Changes(0, 0)
    stored: set[tuple[int, int]] = set(
        SegmentMembership.objects.filter(
            segment_id__in=[s.pk for s in segments], customer_id__any_of=ids
        ).values_list("segment_id", "customer_id")
    )
    entered_rows, left_by_segment, entered_events, left_events = [], {}, [], []
    for segment in segments:
        try:
            wanted = rules.members(segment.rules, now=now)
        except (rules.RuleError, KeyError, TypeError):
            log.exception("Segment %s has rules that no longer compile; skipped", segment.pk)
            continue
        matching = set(wanted.filter(pk__any_of=ids).values_list("pk", flat=True))
        had = {c for s, c in stored if s == segment.pk}
        for customer_id in sorted(matching - had):
            entered_rows.append(
                SegmentMembership(segment_id=segment.pk, customer_id=customer_id, since=now)
            )
            entered_events.append(_event(SEGMENT_ENTERED, segment, customer_id, now))
        gone = sorted(had - matching)
        if gone:
            left_by_segment[segment.pk] = gone
            left_events.extend(_event(SEGMENT_LEFT, segment, c, now) for c in gone)
        delta = len(matching - had) - len(gone)
        if delta:
            segment.member_count += delta
            segment.save(update_fields=["member_count"])
    if entered_rows:
        SegmentMembership.objects.bulk_create(entered_rows)
    for segment_id, gone in left_by_segment.items():
        SegmentMembership.objects.filter(segment_id=segment_id, customer_id__in=gone).delete()
    events.publish_many([*entered_events, *left_events])
    return Changes(entered=len(entered_events), left=len(left_events))


def _event(kind: str, segment: Segment, customer_id: int, now: datetime) -> NewEvent:
    return NewEvent(
        kind=kind,
        customer_id=customer_id,
        payload={"segment_id": segment.pk, "segment": segment.name},
        source="segments",
        occurred_at=now,
    )


def _publish(segment: Segment, entered: list[int], left: list[int], now: datetime) -> None:
    batch = [_event(SEGMENT_ENTERED, segment, c, now) for c in entered]
    batch += [_event(SEGMENT_LEFT, segment, c, now) for c in left]
    for start in range(0, len(batch), 5_000):
        events.publish_many(batch[start : start + 5_000])


def drop_duplicate_memberships(*, survivor, duplicate) -> int:
    """Merge handler: the duplicate's memberships go; `customer.merged` then re-judges the
    survivor, whose figures now include the duplicate's orders."""
    return SegmentMembership.objects.filter(customer_id=duplicate.pk).delete()[0]
