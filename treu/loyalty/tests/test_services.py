from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from treu.commerce import services as commerce
from treu.commerce.tests.factories import make_order
from treu.core import events, privacy
from treu.core.models import DomainEvent
from treu.customers import services as customer_services
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors, services
from treu.loyalty.events import MEMBER_JOINED, POINTS_CHANGED
from treu.loyalty.models import EntryKind, EntryStatus, Member, PointsEntry, ProgramSettings
from treu.loyalty.tests.conftest import assert_sums_match_ledger, start_program

pytestmark = pytest.mark.django_db


def _order(customer, after_commit, **kwargs):
    with after_commit():
        return make_order(customer=customer, **kwargs)


def _earned(member) -> list[PointsEntry]:
    return list(member.entries.filter(kind=EntryKind.EARN).order_by("id"))


# -- Settings ---------------------------------------------------------------------------------


def test_nothing_is_earned_before_the_programme_is_set_up(anna, after_commit):
    order = _order(anna, after_commit)
    assert services.award_points_for_orders([order.pk]) == 0
    assert not Member.objects.exists()


def test_it_refuses_settings_out_of_range_in_german(db, settings):
    settings.LANGUAGE_CODE = "de"
    with pytest.raises(services.LoyaltyError) as refused:
        services.update_program_settings(return_window_days=400, point_name="  ")
    errors = refused.value.message_dict
    assert "return_window_days" in errors and "point_name" in errors
    assert "kleiner oder gleich 365" in errors["return_window_days"][0]
    assert not selectors.program_settings().created_at


def test_settings_are_one_row_and_keep_their_start(program):
    started = program.created_at
    services.update_program_settings(point_name="Sterne", points_per_euro="2.5")
    current = selectors.program_settings()
    assert (current.point_name, str(current.points_per_euro)) == ("Sterne", "2.50")
    assert current.created_at == started


# -- Members ----------------------------------------------------------------------------------


def test_joining_gives_welcome_points_once_and_tells_the_timeline(anna, after_commit):
    start_program(welcome_points=50)
    with after_commit():
        member = services.join_program(customer=anna)
        again = services.join_program(customer=anna)
    assert again.pk == member.pk
    assert_sums_match_ledger(member)
    assert member.points_balance == 50
    kinds = list(DomainEvent.objects.filter(customer=anna).values_list("kind", flat=True))
    assert kinds.count(MEMBER_JOINED) == 1 and kinds.count(POINTS_CHANGED) == 1


def test_it_refuses_joining_before_the_programme_exists(anna):
    with pytest.raises(services.LoyaltyError):
        services.join_program(customer=anna)


# -- Earning ----------------------------------------------------------------------------------


def test_an_ingested_order_earns_pending_points_per_line(anna_member, anna, after_commit):
    _order(anna, after_commit, lines=((2, 1000, 700), (1, 550, 1900)))
    earned = _earned(anna_member)
    assert [e.points for e in earned] == [20, 5]
    assert {e.status for e in earned} == {EntryStatus.PENDING}
    assert all(e.order_line_id for e in earned)
    assert_sums_match_ledger(anna_member)
    assert anna_member.pending_points == 25 and anna_member.points_balance == 0


def test_the_same_event_delivered_twice_awards_once(anna_member, anna, after_commit):
    order = _order(anna, after_commit)
    event = DomainEvent.objects.get(kind="order.ingested", payload__order_id=order.pk)
    with after_commit():
        events.dispatch(event)
    services.award_points_for_orders([order.pk, order.pk])
    assert len(_earned(anna_member)) == 1
    assert_sums_match_ledger(anna_member)


def test_the_ledger_refuses_a_second_earn_for_one_line(anna_member, anna, after_commit):
    order = _order(anna, after_commit)
    first = _earned(anna_member)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            member=anna_member,
            kind=EntryKind.EARN,
            points=1,
            status=EntryStatus.PENDING,
            available_at=first.available_at,
            order=order,
            key=first.key,
        )


def test_guests_non_members_and_earlier_orders_earn_nothing(program, anna, ben, after_commit):
    _order(None, after_commit)
    _order(ben, after_commit)  # never joined
    with after_commit():
        member = services.join_program(customer=anna)
    _order(anna, after_commit, placed_at=timezone.now() - timedelta(days=3))  # before joining
    assert not PointsEntry.objects.filter(kind=EntryKind.EARN).exists()
    assert not Member.objects.filter(customer=ben).exists()
    assert member.points_balance == 0


def test_when_everyone_is_a_member_the_first_order_makes_one(anna, after_commit):
    start_program(membership="all", welcome_points=10)
    _order(anna, after_commit, lines=((1, 2000, 1900),))
    member = selectors.member_of(anna.pk)
    assert_sums_match_ledger(member)
    assert (member.points_balance, member.pending_points) == (10, 20)
    assert DomainEvent.objects.filter(kind=MEMBER_JOINED, customer=anna).count() == 1


def test_history_import_awards_nothing(anna_member, anna, shop):
    order = make_order(customer=None, shop=shop)  # the order itself, without its event
    events.record_history(
        [
            DomainEvent(
                kind="order.ingested",
                customer=anna,
                occurred_at=order.placed_at,
                payload={"order_id": order.pk},
            )
        ]
    )
    assert not PointsEntry.objects.filter(kind=EntryKind.EARN).exists()


def test_a_batch_of_orders_is_awarded_like_one_by_one(anna_member, anna, ben, shop, after_commit):
    with after_commit():
        services.join_program(customer=ben, now=timezone.now() - timedelta(days=30))
    placed = timezone.now() - timedelta(hours=5)
    batch = [
        commerce.OrderInput(
            shop=shop,
            external_id=f"B{n}",
            customer_id=(anna if n % 2 else ben).pk,
            placed_at=placed,
            lines=[commerce.LineInput(title="Bohnen", quantity=n, unit_price_cents=1000)],
            total_cents=1000 * n,
        )
        for n in range(1, 7)
    ]
    with after_commit():
        results = commerce.ingest_orders(batch)
    assert all(isinstance(r, commerce.IngestResult) for r in results)
    anna_total = sum(e.points for e in PointsEntry.objects.filter(member__customer=anna))
    ben_total = sum(e.points for e in PointsEntry.objects.filter(member__customer=ben))
    assert (anna_total, ben_total) == (10 + 30 + 50, 20 + 40 + 60)
    for member in Member.objects.all():
        assert_sums_match_ledger(member)


def test_awarding_a_batch_takes_a_fixed_number_of_queries(anna_member, anna, ben, shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.join_program(customer=ben, now=timezone.now() - timedelta(days=30))

    def award(n: int) -> tuple[int, int]:
        orders = [make_order(customer=anna if k % 2 else ben, shop=shop) for k in range(n)]
        with CaptureQueriesContext(connection) as queries:
            awarded = services.award_points_for_orders([o.pk for o in orders])
        return len(queries), awarded

    (small, awarded_small), (large, awarded_large) = award(20), award(100)
    assert (awarded_small, awarded_large) == (20 * 14, 100 * 14)
    # programme, savepoint, orders (locked), their lines, members (locked), keys already
    # earned, tier multipliers, running earning rules (none), INSERT ledger rows, member
    # sums, ids + INSERT events, release: the same for any batch size
    assert small == large == 13


def test_batch_ingestion_with_points_takes_a_fixed_number_of_queries(
    anna_member, anna, shop, django_capture_on_commit_callbacks
):
    def ingest(prefix: str, n: int) -> int:
        batch = [
            commerce.OrderInput(
                shop=shop,
                external_id=f"{prefix}{i}",
                customer_id=anna.pk,
                placed_at=timezone.now() - timedelta(hours=1),
                lines=[commerce.LineInput(title="Bohnen", quantity=1, unit_price_cents=1000)],
                total_cents=1000,
            )
            for i in range(n)
        ]
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            commerce.ingest_orders(batch)
        return len(queries)

    ingest("warm", 1)
    assert ingest("S", 3) == ingest("L", 30)
    assert anna_member.entries.filter(kind=EntryKind.EARN).count() == 1 + 3 + 30


def test_the_catch_up_awards_orders_whose_event_was_lost(anna_member, anna, shop):
    # Ingested without running subscribers (as if the process died after the commit).
    lost = make_order(customer=anna, shop=shop, lines=((2, 1000, 700),))
    returned = make_order(customer=anna, shop=shop, lines=((2, 1000, 700),))
    commerce.record_return(
        returned,
        lines=[commerce.ReturnLineInput(order_line_id=returned.lines.get().pk, quantity=1)],
    )
    guest = make_order(customer=None, shop=shop)
    since = timezone.now() - timedelta(hours=3)
    assert services.catch_up_points(since=since) == 20 + 20 - 10
    assert services.catch_up_points(since=since) == 0  # nothing twice
    assert_sums_match_ledger(anna_member)
    assert anna_member.pending_points == 30
    assert {lost.pk, returned.pk} == set(
        PointsEntry.objects.filter(kind=EntryKind.EARN).values_list("order_id", flat=True)
    )
    assert not PointsEntry.objects.filter(order=guest).exists()


def test_the_catch_up_takes_back_points_when_the_return_event_was_lost(
    anna_member, anna, after_commit, owner
):
    order = _order(anna, after_commit, lines=((2, 1000, 700),))
    # Returned and cancelled without their subscribers running.
    commerce.record_return(
        order, lines=[commerce.ReturnLineInput(order_line_id=order.lines.get().pk, quantity=1)]
    )
    other = _order(anna, after_commit)
    commerce.cancel_order(other)
    since = timezone.now() - timedelta(hours=3)
    assert services.catch_up_points(since=since) == -10 - 14
    assert services.catch_up_points(since=since) == 0
    assert_sums_match_ledger(anna_member)
    assert anna_member.pending_points == 10


def test_the_catch_up_task_looks_back_a_few_hours(anna_member, anna, shop):
    from treu.loyalty.tasks import catch_up_points

    make_order(customer=anna, shop=shop)
    catch_up_points.call_local()
    assert_sums_match_ledger(anna_member)
    assert anna_member.pending_points == 14


# -- Pending to available ---------------------------------------------------------------------


def test_points_become_available_after_the_return_window(anna_member, anna, after_commit):
    placed = timezone.now() - timedelta(days=2)
    _order(anna, after_commit, placed_at=placed)
    entry = _earned(anna_member)[0]
    assert entry.available_at == placed + timedelta(days=14)
    assert services.release_pending_points(now=placed + timedelta(days=13)) == 0
    assert services.release_pending_points(now=placed + timedelta(days=14)) == 14
    assert services.release_pending_points(now=placed + timedelta(days=15)) == 0
    assert_sums_match_ledger(anna_member)
    assert (anna_member.points_balance, anna_member.pending_points) == (14, 0)


def test_many_members_are_released_in_chunks(program, after_commit, monkeypatch):
    from treu.loyalty.services import ledger

    monkeypatch.setattr(ledger, "RELEASE_CHUNK", 2)
    placed = timezone.now() - timedelta(days=1)
    members = []
    for _ in range(5):
        customer = CustomerFactory()
        members.append(services.join_program(customer=customer, now=placed - timedelta(days=1)))
        _order(customer, after_commit, placed_at=placed)
    assert services.release_pending_points(now=placed + timedelta(days=14)) == 5 * 14
    for member in members:
        assert_sums_match_ledger(member)
        assert (member.points_balance, member.pending_points) == (14, 0)


def test_the_window_counts_from_delivery_once_the_shop_reports_it(
    anna_member, anna, shop, after_commit
):
    data = commerce.OrderInput(
        shop=shop,
        external_id="D1",
        customer_id=anna.pk,
        placed_at=timezone.now() - timedelta(days=10),
        lines=[commerce.LineInput(title="Bohnen", quantity=1, unit_price_cents=1000)],
        total_cents=1000,
    )
    with after_commit():
        commerce.ingest_order(data)
    delivered = timezone.now() - timedelta(days=1)
    with after_commit():
        commerce.ingest_order(replace(data, status="delivered", delivered_at=delivered))
    assert _earned(anna_member)[0].available_at == delivered + timedelta(days=14)


def test_status_updates_of_orders_with_points_cost_a_fixed_number_of_queries(
    anna_member, anna, shop, django_capture_on_commit_callbacks
):
    placed = timezone.now() - timedelta(hours=2)

    def batch(prefix: str, n: int, **changes) -> list[commerce.OrderInput]:
        return [
            commerce.OrderInput(
                shop=shop,
                external_id=f"{prefix}{i}",
                customer_id=anna.pk,
                placed_at=placed,
                lines=[commerce.LineInput(title="Bohnen", quantity=1, unit_price_cents=1000)],
                total_cents=1000,
                **changes,
            )
            for i in range(n)
        ]

    def queries(orders: list[commerce.OrderInput]) -> int:
        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks(execute=True),
        ):
            commerce.ingest_orders(orders)
        return len(captured)

    for prefix, n in (("S", 2), ("L", 20)):
        queries(batch(prefix, n))
    shipped = {"status": "shipped", "fulfilled_at": placed}
    assert queries(batch("S", 2, **shipped)) == queries(batch("L", 20, **shipped))
    assert anna_member.entries.filter(kind=EntryKind.EARN).count() == 22


def test_an_old_order_arriving_late_is_available_at_once(anna, after_commit):
    program = start_program()
    member = services.join_program(customer=anna, now=program.created_at)
    _order(anna, after_commit, placed_at=timezone.now() - timedelta(days=20))
    assert_sums_match_ledger(member)
    assert (member.points_balance, member.pending_points) == (14, 0)


def test_the_window_is_counted_in_berlin_days_across_the_clock_change(anna, after_commit):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    placed = datetime(timezone.now().year - 1, 3, 20, 12, 0, tzinfo=berlin)  # before DST
    program = start_program()
    ProgramSettings.objects.update(created_at=placed - timedelta(days=1))
    member = services.join_program(customer=anna, now=placed - timedelta(days=1))
    _order(anna, after_commit, placed_at=placed)
    entry = _earned(member)[0]
    assert program.return_window_days == 14
    # Still noon in Berlin two weeks later, although the clocks went forward meanwhile.
    assert entry.available_at.astimezone(berlin) == datetime(
        placed.year, 4, 3, 12, 0, tzinfo=berlin
    )


def test_the_customer_timeline_reads_loyalty_events_in_german(anna_member, anna, after_commit):
    from treu.customers.selectors import customer_timeline

    _order(anna, after_commit, lines=((1, 2000, 700),))
    titles = [item.entry.title for item in customer_timeline(anna)]
    assert "20 Bohnen gesammelt" in titles
    assert "Dem Treueprogramm beigetreten" in titles


def test_the_release_task_runs_the_service(anna_member, anna, after_commit):
    from treu.loyalty.tasks import release_pending_points

    _order(anna, after_commit, placed_at=timezone.now() - timedelta(days=15))
    # The order is older than the window: it was available at once; add a pending one.
    _order(anna, after_commit)
    PointsEntry.objects.filter(status=EntryStatus.PENDING).update(
        available_at=timezone.now() - timedelta(minutes=1)
    )
    release_pending_points.call_local()
    assert_sums_match_ledger(anna_member)
    assert (anna_member.points_balance, anna_member.pending_points) == (28, 0)


# -- Taking points back -----------------------------------------------------------------------


def test_a_cancelled_order_loses_all_its_points(anna_member, anna, after_commit):
    order = _order(anna, after_commit, lines=((1, 1000, 700), (2, 500, 700)))
    with after_commit():
        commerce.cancel_order(order)
    assert_sums_match_ledger(anna_member)
    assert anna_member.pending_points == 0
    reversals = anna_member.entries.filter(kind=EntryKind.REVERSE)
    assert sorted(e.points for e in reversals) == [-10, -10]
    assert {e.status for e in reversals} == {EntryStatus.PENDING}


def test_a_return_takes_back_the_points_of_the_returned_units(anna_member, anna, after_commit):
    order = _order(anna, after_commit, lines=((3, 1000, 700), (1, 500, 700)))
    first, _second = order.lines.order_by("id")
    with after_commit():
        commerce.record_return(
            order, lines=[commerce.ReturnLineInput(order_line_id=first.pk, quantity=2)]
        )
    assert_sums_match_ledger(anna_member)
    assert anna_member.pending_points == 35 - 20
    with after_commit():
        commerce.record_return(
            order, lines=[commerce.ReturnLineInput(order_line_id=first.pk, quantity=1)]
        )
    assert_sums_match_ledger(anna_member)
    assert anna_member.pending_points == 5  # only the kept line's points are left
    event = DomainEvent.objects.filter(kind="order.refunded").last()
    with after_commit():
        events.dispatch(event)  # a replay takes nothing more
    assert_sums_match_ledger(anna_member)
    assert anna_member.pending_points == 5


def test_reversed_pending_points_are_released_together(anna_member, anna, after_commit):
    placed = timezone.now() - timedelta(days=1)
    order = _order(anna, after_commit, placed_at=placed, lines=((2, 1000, 700),))
    line = order.lines.get()
    with after_commit():
        commerce.record_return(
            order, lines=[commerce.ReturnLineInput(order_line_id=line.pk, quantity=1)]
        )
    services.release_pending_points(now=placed + timedelta(days=15))
    assert_sums_match_ledger(anna_member)
    assert (anna_member.points_balance, anna_member.pending_points) == (10, 0)


def test_spent_points_are_taken_back_only_as_far_as_the_balance_goes(
    anna_member, anna, after_commit
):
    order = _order(anna, after_commit, placed_at=timezone.now() - timedelta(days=20))
    anna_member.refresh_from_db()
    assert anna_member.points_balance == 14
    services.redeem_points(member=anna_member, points=10, reason="Gutschein")
    with after_commit():
        commerce.cancel_order(order)
    assert_sums_match_ledger(anna_member)
    assert anna_member.points_balance == 0
    reversal = anna_member.entries.get(kind=EntryKind.REVERSE)
    assert (reversal.points, reversal.unrecovered) == (-4, 10)


def test_a_reversal_with_nothing_left_still_records_what_was_lost(anna_member, anna, after_commit):
    order = _order(anna, after_commit, placed_at=timezone.now() - timedelta(days=20))
    services.redeem_points(member=anna_member, points=14, reason="Gutschein")
    with after_commit():
        commerce.cancel_order(order)
    reversal = anna_member.entries.get(kind=EntryKind.REVERSE)
    assert (reversal.points, reversal.unrecovered) == (0, 14)
    assert_sums_match_ledger(anna_member)


def test_refunded_shipping_takes_back_the_shipping_points(anna, after_commit):
    start_program(include_shipping=True)
    member = services.join_program(customer=anna, now=timezone.now() - timedelta(days=30))
    order = _order(anna, after_commit, lines=((1, 1000, 1900),), shipping_cents=500)
    assert member.entries.get(source_rule=services.SHIPPING).points == 5
    with after_commit():
        commerce.record_return(order, lines=[], shipping_refund_cents=500)
    assert_sums_match_ledger(member)
    assert member.pending_points == 10


def test_lines_the_shop_replaced_lose_their_points_and_the_new_ones_earn(
    anna_member, anna, shop, after_commit
):
    placed = timezone.now() - timedelta(hours=3)

    def version(quantity: int) -> commerce.OrderInput:
        return commerce.OrderInput(
            shop=shop,
            external_id="R1",
            customer_id=anna.pk,
            placed_at=placed,
            lines=[commerce.LineInput(title="Bohnen", quantity=quantity, unit_price_cents=1000)],
            total_cents=1000 * quantity,
        )

    with after_commit():
        commerce.ingest_order(version(1))
    with after_commit():
        commerce.ingest_order(version(3))
    assert_sums_match_ledger(anna_member)
    assert anna_member.pending_points == 30
    assert anna_member.entries.filter(source_rule=services.ORDER_CHANGED).count() == 1


# -- Redeeming and adjusting ------------------------------------------------------------------


def test_it_refuses_redeeming_more_points_than_the_balance(anna_member, owner, settings):
    services.adjust_points(member=anna_member, points=30, reason="Kulanz", staff_user=owner)
    with pytest.raises(services.LoyaltyError) as refused:
        services.redeem_points(member=anna_member, points=31, reason="Prämie")
    assert refused.value.message_dict["points"] == ["Nicht genug Bohnen: 30 verfügbar."]
    assert_sums_match_ledger(anna_member)
    assert anna_member.points_balance == 30
    assert not anna_member.entries.filter(kind=EntryKind.REDEEM).exists()


def test_redeeming_with_a_key_happens_once(anna_member, owner):
    services.adjust_points(member=anna_member, points=30, reason="Kulanz", staff_user=owner)
    first = services.redeem_points(member=anna_member, points=20, reason="Prämie", key="k-1")
    again = services.redeem_points(member=anna_member, points=20, reason="Prämie", key="k-1")
    assert first.pk == again.pk
    assert_sums_match_ledger(anna_member)
    assert anna_member.points_balance == 10


def test_it_refuses_redeeming_nothing(anna_member):
    with pytest.raises(services.LoyaltyError):
        services.redeem_points(member=anna_member, points=0, reason="")


def test_due_points_can_be_redeemed_before_the_job_ran(anna_member, anna, after_commit):
    _order(anna, after_commit)
    PointsEntry.objects.update(available_at=timezone.now() - timedelta(seconds=1))
    services.redeem_points(member=anna_member, points=14, reason="Prämie")
    assert_sums_match_ledger(anna_member)
    assert (anna_member.points_balance, anna_member.pending_points) == (0, 0)


def test_a_manual_adjustment_needs_a_reason_and_a_staff_member(anna_member, owner):
    with pytest.raises(services.LoyaltyError) as refused:
        services.adjust_points(member=anna_member, points=5, reason=" ", staff_user=None)
    assert set(refused.value.message_dict) == {"reason", "staff_user"}
    entry = services.adjust_points(member=anna_member, points=5, reason="Kulanz", staff_user=owner)
    assert (entry.staff_user, entry.reason, entry.kind) == (owner, "Kulanz", EntryKind.ADJUST)
    assert list(selectors.member_ledger(anna_member)) == [entry]


def test_it_refuses_an_adjustment_below_zero(anna_member, owner):
    services.adjust_points(member=anna_member, points=5, reason="Kulanz", staff_user=owner)
    with pytest.raises(services.LoyaltyError):
        services.adjust_points(member=anna_member, points=-6, reason="Fehler", staff_user=owner)
    services.adjust_points(member=anna_member, points=-5, reason="Fehler", staff_user=owner)
    assert_sums_match_ledger(anna_member)
    assert anna_member.points_balance == 0


def test_the_database_refuses_a_negative_balance(anna_member):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=anna_member.pk).update(points_balance=-1)


# -- Other apps' workflows ---------------------------------------------------------------------


def test_merging_customers_joins_their_ledgers(anna_member, owner):
    duplicate = CustomerFactory()
    dup_member = services.join_program(customer=duplicate, now=timezone.now() - timedelta(days=1))
    services.adjust_points(member=anna_member, points=5, reason="a", staff_user=owner)
    services.adjust_points(member=dup_member, points=7, reason="b", staff_user=owner)
    customer_services.merge_customers(survivor=anna_member.customer, duplicate=duplicate)
    assert not Member.objects.filter(pk=dup_member.pk).exists()
    assert_sums_match_ledger(anna_member)
    assert anna_member.points_balance == 12


def test_merging_moves_the_duplicates_membership_to_a_survivor_without_one(program, owner):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    member = services.join_program(customer=duplicate)
    services.adjust_points(member=member, points=7, reason="b", staff_user=owner)
    customer_services.merge_customers(survivor=survivor, duplicate=duplicate)
    member.refresh_from_db()
    assert member.customer_id == survivor.pk and member.points_balance == 7


def test_erasing_a_customer_removes_membership_and_ledger(anna_member, anna, owner):
    services.adjust_points(member=anna_member, points=5, reason="Kulanz", staff_user=owner)
    assert privacy.export_customer(anna)["loyalty.PointsEntry"][0]["reason"] == "Kulanz"
    privacy.erase_customer(anna)
    assert not Member.objects.exists() and not PointsEntry.objects.exists()


def test_resetting_the_demo_removes_members_and_ledgers(anna_member, anna, after_commit):
    from treu.commerce.tests.factories import ShopFactory
    from treu.demo import catalogue
    from treu.demo.generator import reset_demo

    demo_shop = ShopFactory(code=catalogue.SHOP_CODES[0])
    _order(anna, after_commit, shop=demo_shop)
    assert PointsEntry.objects.exists()
    reset_demo()
    assert not Member.objects.exists() and not PointsEntry.objects.exists()
