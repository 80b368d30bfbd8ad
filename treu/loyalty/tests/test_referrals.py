"""Referrals: codes, recording, the fraud rules, review, rewarding once, privacy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from treu.commerce import services as commerce
from treu.commerce.tests.factories import make_order
from treu.core import privacy
from treu.core.models import DomainEvent
from treu.customers import selectors as customer_selectors
from treu.customers.tests.factories import AddressFactory, CustomerFactory
from treu.loyalty import selectors, services
from treu.loyalty.codes import CODE_ALPHABET
from treu.loyalty.events import COUPON_ISSUED, REFERRAL_RECORDED, REFERRAL_REWARDED
from treu.loyalty.models import (
    CreditEntry,
    Member,
    PointsEntry,
    Referral,
    ReferralCode,
    ReferralStatus,
    RewardKind,
)
from treu.loyalty.services.referrals import GRACE, hash_ip
from treu.loyalty.tests.conftest import assert_sums_match_ledger

pytestmark = pytest.mark.django_db

LATER = timedelta(days=15)  # past the default return window of 14 days


@pytest.fixture
def referrals_on(program):
    return services.update_referral_settings(
        active=True, advocate_points=100, friend_discount_cents=1000
    )


@pytest.fixture
def code(referrals_on, anna_member) -> str:
    return services.referral_code_for(member=anna_member).code


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("pruefer")


def _refer(code: str, friend, **kwargs) -> Referral:
    referral, created = services.record_referral(code=code, friend=friend, **kwargs)
    assert created
    return referral


def _reward_points(member: Member) -> int:
    return sum(
        member.entries.filter(source_rule=services.REFERRAL).values_list("points", flat=True)
    )


# -- Codes ------------------------------------------------------------------------------------


def test_a_member_has_one_code_that_cannot_be_guessed(anna_member, ben, program):
    first = services.referral_code_for(member=anna_member)
    assert services.referral_code_for(member=anna_member) == first
    raw = first.code.replace("-", "")
    assert len(raw) == 12 and set(raw) <= set(CODE_ALPHABET)  # 60 random bits
    other = services.referral_code_for(member=services.join_program(customer=ben))
    assert other.code != first.code


def test_opening_the_link_counts_and_unknown_codes_count_nothing(code):
    assert services.record_click(code=code.lower().replace("-", " ")).code == code
    assert services.record_click(code="ABCD-EFGH-JKMN") is None
    assert ReferralCode.objects.get(code=code).clicks == 1


# -- Recording --------------------------------------------------------------------------------


def test_a_clean_referral_gives_the_friend_a_welcome_coupon(code, anna, ben, after_commit):
    with after_commit():
        referral = _refer(code, ben, source="test")
    assert (referral.status, referral.flags) == (ReferralStatus.PENDING, [])
    coupon = referral.coupon
    assert coupon.kind == RewardKind.FIXED_AMOUNT and coupon.amount_cents == 1000
    assert coupon.member.customer == ben and coupon.redemption is None
    days = (timezone.localtime(coupon.expires_at).date() - timezone.localdate()).days
    assert days == 30
    use, created = services.consume_coupon(
        code=coupon.code, basket_cents=3000, shop="online", order_external_id="1"
    )
    assert created and use.discount_cents == 1000
    recorded = DomainEvent.objects.get(kind=REFERRAL_RECORDED)
    assert recorded.customer_id == anna.pk and recorded.payload["status"] == "pending"
    assert DomainEvent.objects.filter(kind=COUPON_ISSUED, customer=ben).exists()


def test_the_same_friend_with_the_same_code_is_recorded_once(code, ben):
    first = _refer(code, ben)
    again, created = services.record_referral(code=code, friend=ben)
    assert (again, created) == (first, False)
    assert Referral.objects.count() == 1


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unknown", "unknown"),
        ("self", "self_referral"),
        ("inactive", "inactive"),
        ("other_advocate", "already_referred"),
    ],
)
def test_it_refuses_what_is_no_referral(code, anna, ben, case, reason):
    friend, used = ben, code
    if case == "unknown":
        used = "ZZZZ-ZZZZ-ZZZZ"
    elif case == "self":
        friend = anna
    elif case == "inactive":
        services.update_referral_settings(active=False)
    elif case == "other_advocate":
        carl = services.join_program(customer=CustomerFactory())
        _refer(services.referral_code_for(member=carl).code, ben)
    before = Referral.objects.count()
    with pytest.raises(services.ReferralRefused) as refused:
        services.record_referral(code=used, friend=friend)
    assert refused.value.reason == reason
    assert Referral.objects.count() == before


# -- Fraud rules ------------------------------------------------------------------------------


def _assert_waits_for_review(referral: Referral, flag: str) -> None:
    assert referral.status == ReferralStatus.REVIEW
    assert flag in referral.flags
    assert referral.coupon is None  # no welcome coupon before someone looked at it
    assert not Member.objects.filter(customer=referral.friend).exists()


def test_the_same_inbox_is_a_self_referral(code):
    # anna.mueller@example.de with a "+tag": the same mailbox.
    twin = CustomerFactory(first_name="A", last_name="M", email="Anna.Mueller+neu@example.de")
    _assert_waits_for_review(_refer(code, twin), "same_email")


def test_gmail_dots_are_the_same_inbox(referrals_on):
    advocate = services.join_program(customer=CustomerFactory(email="max.mustermann@gmail.com"))
    twin = CustomerFactory(email="maxmustermann+x@googlemail.com", first_name="Z")
    code = services.referral_code_for(member=advocate).code
    _assert_waits_for_review(_refer(code, twin), "same_email")


def test_the_same_address_is_a_self_referral(code, anna, ben):
    AddressFactory(customer=anna, street="Hauptstraße 5", postcode="10115")
    AddressFactory(customer=ben, street="hauptstrasse 5 ", postcode="10115")
    _assert_waits_for_review(_refer(code, ben), "same_address")


def test_the_same_name_or_payment_name_is_a_self_referral(code, ben):
    namesake = CustomerFactory(first_name="Anna", last_name="Müller", email="am@example.org")
    _assert_waits_for_review(_refer(code, namesake), "same_name")
    _assert_waits_for_review(_refer(code, ben, payment_name="MUELLER ANNA"), "same_name")


def test_a_friend_who_ordered_before_is_not_new(code, ben, shop, after_commit):
    make_order(customer=ben, shop=shop, placed_at=timezone.now() - timedelta(days=10))
    _assert_waits_for_review(_refer(code, ben), "not_new")


def test_an_order_just_before_the_referral_still_counts_as_the_first(code, ben, shop):
    # The shop may tell treu a moment after the order went in.
    make_order(customer=ben, shop=shop, placed_at=timezone.now() - GRACE / 2)
    assert _refer(code, ben).status == ReferralStatus.PENDING


def test_many_referrals_from_one_network_in_a_week_wait_for_review(code):
    friends = [CustomerFactory() for _ in range(4)]
    ips = ["203.0.113.7", "203.0.113.99", "203.0.113.7", "203.0.113.8"]
    referrals = [_refer(code, f, ip=ip) for f, ip in zip(friends, ips, strict=True)]
    assert [r.status for r in referrals[:3]] == [ReferralStatus.PENDING] * 3
    _assert_waits_for_review(referrals[3], "ip_burst")
    # Another network, or the same a week later, is fine.
    assert _refer(code, CustomerFactory(), ip="198.51.100.1").status == ReferralStatus.PENDING
    later = timezone.now() + timedelta(days=8)
    assert _refer(code, CustomerFactory(), ip="203.0.113.7", now=later).flags == []


def test_addresses_are_kept_only_as_a_keyed_hash_of_their_network():
    assert hash_ip("203.0.113.7") == hash_ip("203.0.113.200")  # the same /24
    assert hash_ip("203.0.113.7") != hash_ip("203.0.114.7")
    assert hash_ip("2001:db8:1:2::1") == hash_ip("2001:db8:1:ffff::9")  # the same /48
    assert hash_ip("not an address") == "" and hash_ip("") == ""
    assert "203" not in hash_ip("203.0.113.7") and len(hash_ip("203.0.113.7")) == 32


def test_hashed_addresses_are_forgotten_after_30_days(code, ben):
    referral = _refer(code, ben, ip="203.0.113.7")
    assert services.forget_old_ip_hashes(now=timezone.now() + timedelta(days=29)) == 0
    assert services.forget_old_ip_hashes(now=timezone.now() + timedelta(days=31)) == 1
    referral.refresh_from_db()
    assert referral.ip_hash == ""


# -- Review -----------------------------------------------------------------------------------


def test_an_approved_referral_goes_on_like_a_clean_one(code, ben, staff):
    suspicious = _refer(code, ben, payment_name="Anna Müller")
    approved = services.review_referral(
        referral=suspicious, approve=True, reason="Ehepaar, geprüft", staff_user=staff
    )
    assert approved.status == ReferralStatus.PENDING and approved.coupon is not None
    approved.refresh_from_db()
    assert (approved.reviewed_by, approved.review_reason) == (staff, "Ehepaar, geprüft")
    assert approved.reviewed_at is not None


def test_a_rejected_referral_never_earns(code, anna_member, ben, shop, staff):
    suspicious = _refer(code, ben, payment_name="Anna Müller")
    services.review_referral(referral=suspicious, approve=False, reason="Selbst", staff_user=staff)
    make_order(customer=ben, shop=shop, placed_at=timezone.now())
    assert services.reward_referrals(now=timezone.now() + LATER) == 0
    assert _reward_points(anna_member) == 0


def test_a_review_needs_a_reason_and_happens_once(code, ben, staff):
    suspicious = _refer(code, ben, payment_name="Anna Müller")
    with pytest.raises(services.LoyaltyError) as refused:
        services.review_referral(referral=suspicious, approve=True, reason=" ", staff_user=staff)
    assert "reason" in refused.value.message_dict
    services.review_referral(referral=suspicious, approve=False, reason="Nein", staff_user=staff)
    with pytest.raises(services.LoyaltyError):
        services.review_referral(referral=suspicious, approve=True, reason="Doch", staff_user=staff)
    suspicious.refresh_from_db()
    assert suspicious.status == ReferralStatus.REJECTED


# -- Rewarding --------------------------------------------------------------------------------


def test_the_advocate_is_rewarded_once_the_first_order_is_past_the_window(
    code, anna, anna_member, ben, shop, after_commit
):
    referral = _refer(code, ben)
    with after_commit():
        order = make_order(customer=ben, shop=shop, placed_at=timezone.now())
    assert services.reward_referrals(now=timezone.now() + timedelta(days=13)) == 0
    assert _reward_points(anna_member) == 0
    with after_commit():
        assert services.reward_referrals(now=timezone.now() + LATER) == 1
    assert services.reward_referrals(now=timezone.now() + LATER) == 0  # never twice
    referral.refresh_from_db()
    assert (referral.status, referral.order, referral.reward_points) == ("rewarded", order, 100)
    assert _reward_points(anna_member) == 100
    assert_sums_match_ledger(anna_member)
    assert PointsEntry.objects.get(key=f"referral:{referral.pk}").status == "available"
    rewarded = DomainEvent.objects.get(kind=REFERRAL_REWARDED)
    assert rewarded.customer_id == anna.pk and rewarded.payload["points"] == 100


def test_the_advocate_can_get_store_credit_instead(code, anna_member, ben, shop):
    services.update_referral_settings(advocate_reward="credit", advocate_credit_cents=750)
    _refer(code, ben)
    make_order(customer=ben, shop=shop, placed_at=timezone.now())
    assert services.reward_referrals(now=timezone.now() + LATER) == 1
    assert services.reward_referrals(now=timezone.now() + LATER) == 0
    anna_member.refresh_from_db()
    assert anna_member.credit_cents == 750
    assert CreditEntry.objects.get(member=anna_member).cents == 750
    assert _reward_points(anna_member) == 0


def test_the_window_counts_from_delivery(code, anna_member, ben, shop):
    _refer(code, ben)
    make_order(
        customer=ben, shop=shop, placed_at=timezone.now(), delivered_at=timezone.now() + LATER
    )
    assert services.reward_referrals(now=timezone.now() + LATER + timedelta(days=1)) == 0
    assert services.reward_referrals(now=timezone.now() + LATER * 2) == 1


def test_a_cancelled_first_order_earns_the_advocate_nothing(code, anna_member, ben, shop):
    referral = _refer(code, ben)
    first = make_order(customer=ben, shop=shop, placed_at=timezone.now())
    second = timezone.now() + timedelta(minutes=5)
    make_order(customer=ben, shop=shop, placed_at=second)  # a second order, kept
    commerce.cancel_order(first)
    assert services.reward_referrals(now=timezone.now() + LATER) == 0
    referral.refresh_from_db()
    assert (referral.status, referral.order) == (ReferralStatus.VOID, first)
    assert _reward_points(anna_member) == 0


def test_a_returned_first_order_earns_the_advocate_nothing(code, anna_member, ben, shop):
    referral = _refer(code, ben)
    order = make_order(customer=ben, shop=shop, lines=((2, 1000, 700),), placed_at=timezone.now())
    returned = [commerce.ReturnLineInput(order_line_id=order.lines.get().pk, quantity=1)]
    commerce.record_return(order, lines=returned)
    assert services.reward_referrals(now=timezone.now() + LATER) == 0
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.VOID


def test_nothing_happens_while_the_friend_has_not_ordered(code, anna_member, ben):
    referral = _refer(code, ben)
    assert services.reward_referrals(now=timezone.now() + LATER * 10) == 0
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING


# -- Privacy and merging ----------------------------------------------------------------------


def test_erasing_the_friend_deletes_the_referral(code, ben):
    _refer(code, ben, ip="203.0.113.7")
    exported = privacy.export_customer(ben)
    assert exported["loyalty.Referral"][0]["status"] == "pending"
    privacy.erase_customer(ben)
    assert not Referral.objects.exists()


def test_erasing_the_advocate_deletes_code_and_referrals(code, anna, ben):
    _refer(code, ben)
    assert privacy.export_customer(anna)["loyalty.ReferralCode"][0]["code"] == code
    privacy.erase_customer(anna)
    assert not Referral.objects.exists() and not ReferralCode.objects.exists()
    assert Member.objects.filter(customer=ben).exists()  # the friend keeps their membership


def test_merged_advocates_keep_their_referrals(code, anna, anna_member, ben):
    from treu.customers import services as customer_services

    duplicate = CustomerFactory(email="anna.alt@example.de")
    dup_member = services.join_program(customer=duplicate)
    dup_code = services.referral_code_for(member=dup_member).code
    referral = _refer(dup_code, ben)
    customer_services.merge_customers(survivor=anna, duplicate=duplicate)
    referral.refresh_from_db()
    assert referral.advocate == anna_member
    assert selectors.member_of(anna.pk).referral_code.code == code
    assert customer_selectors.customer_by_id(anna.pk) is not None


def test_a_person_referred_twice_under_two_customers_keeps_one_referral(code, ben):
    from treu.customers import services as customer_services

    carl = services.join_program(customer=CustomerFactory())
    ben_again = CustomerFactory(email="ben.alt@example.de")
    kept = _refer(code, ben)
    _refer(services.referral_code_for(member=carl).code, ben_again)
    customer_services.merge_customers(survivor=ben, duplicate=ben_again)
    assert list(Referral.objects.all()) == [kept]


def test_the_advocates_timeline_tells_the_story_in_german(
    code, anna, ben, shop, after_commit, settings
):
    settings.LANGUAGE_CODE = "de"
    _refer(code, ben)
    make_order(customer=ben, shop=shop, placed_at=timezone.now())
    services.reward_referrals(now=timezone.now() + LATER)
    titles = {item.entry.title: item.entry for item in customer_selectors.customer_timeline(anna)}
    assert titles["Freund geworben"].detail == "Wartet auf die erste Bestellung des Freundes"
    assert titles["Empfehlung belohnt"].detail == "100 Bohnen für eine Empfehlung"
    assert "Ben" not in " ".join(f"{e.title} {e.detail}" for e in titles.values())
