"""Hypothesis property: for any history of orders, joins and marketing mails the loyalty and
email columns of the period rows agree with a plain Python count of docs/metrics.md's
definitions, and the shares stay between 0 and 100 %."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings as django_settings
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.analytics import services
from treu.analytics.models import PeriodFigures, month_index
from treu.analytics.tests.helpers import berlin, join, mail, order
from treu.customers.tests.factories import CustomerFactory

NOW = berlin(2025, 6, 20, 12)
START = berlin(2024, 1, 1, 0)
SPAN_HOURS = int((NOW - START).total_seconds() // 3600) - 1
hours = st.integers(min_value=0, max_value=SPAN_HOURS)

orders_st = st.lists(
    st.tuples(st.integers(0, 3), hours, st.integers(100, 20_000)), max_size=10
)  # customer (3 = a guest), when, cents
joins_st = st.lists(st.one_of(st.none(), hours), min_size=3, max_size=3)  # per customer
mails_st = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 300), st.sampled_from(["campaign", "flow", "x"])),
    max_size=6,
)  # customer, hours before one of the orders (or anywhere), kind


def _month(at) -> int:
    return month_index(timezone.localtime(at).date())


def reference(orders, joined, mails) -> dict:
    window = timedelta(days=django_settings.MESSAGING_ATTRIBUTION_DAYS)
    bought = defaultdict(list)  # customer -> [(at, cents)]
    revenue = defaultdict(int)  # month -> all revenue
    for who, at, cents in orders:
        revenue[_month(at)] += cents
        if who is not None:
            bought[who].append((at, cents))
    months = {c: {_month(at) for at, _ in rows} for c, rows in bought.items()}
    monthly = defaultdict(lambda: defaultdict(int))
    for c, rows in bought.items():
        by_month = defaultdict(list)
        for at, cents in rows:
            by_month[_month(at)].append((at, cents))
        for k, in_month in by_month.items():
            if joined.get(c) is not None and max(at for at, _ in in_month) >= joined[c]:
                monthly["member_orders"][k] += len(in_month)
                monthly["member_revenue_cents"][k] += sum(cents for _, cents in in_month)
        for at, cents in rows:
            touches = [
                (sent, n, key)  # of two mails sent at once, the later row counts
                for n, (who, sent, key) in enumerate(mails)
                if who == c and at - window < sent <= at
            ]
            if touches:
                _sent, _n, key = max(touches)
                monthly["email_orders"][_month(at)] += 1
                monthly["email_revenue_cents"][_month(at)] += cents
                if key.startswith("campaign:"):
                    monthly["email_campaign_cents"][_month(at)] += cents
                if key.startswith("flow:"):
                    monthly["email_flow_cents"][_month(at)] += cents
    for _who, sent, _key in mails:
        monthly["email_mails"][_month(sent)] += 1
    for at in joined.values():
        if at is not None:
            monthly["new_members"][_month(at)] += 1
    if not revenue:
        return {}
    expected = {}
    for m in range(min(revenue), _month(NOW) + 1):
        ending = [c for c in months if any(m - 12 < k <= m for k in months[c])]
        for p in (1, 3, 12):
            span = range(m - p + 1, m + 1)
            row = {name: sum(v.get(k, 0) for k in span) for name, v in monthly.items()}
            row["members_to_date"] = sum(
                1 for at in joined.values() if at is not None and _month(at) <= m
            )
            row["ending_members"] = sum(
                1 for c in ending if joined.get(c) is not None and _month(joined[c]) <= m
            )
            row["revenue_all_cents"] = sum(revenue.get(k, 0) for k in span)
            expected[(m, p)] = row
    return expected


class TestChannelFiguresAgreeWithTheDefinitions(TestCase):
    @given(orders_st, joins_st, mails_st)
    @settings(max_examples=20, deadline=None)
    def test_loyalty_and_email_columns_match_a_plain_count(self, spec, join_hours, mail_spec):
        people = [CustomerFactory() for _ in range(3)]
        orders = []
        for who, hour, cents in spec:
            at = START + timedelta(hours=hour)
            customer = people[who] if who < 3 else None
            order(customer, at, cents)
            orders.append((customer.pk if customer else None, at, cents))
        joined = {}
        for person, hour in zip(people, join_hours, strict=True):
            joined[person.pk] = None if hour is None else START + timedelta(hours=hour)
            if hour is not None:
                join(person, joined[person.pk])
        mails = []
        for n, (who, before, kind) in enumerate(mail_spec):
            # Most mails land shortly before an order, so some orders are attributed.
            anchor = orders[n % len(orders)][1] if orders else NOW
            sent = max(START, anchor - timedelta(hours=before))
            key = f"{kind}:{n}:customer:{people[who].pk}"
            mail(people[who], key, sent)
            mails.append((people[who].pk, sent, key))
        services.recompute_analytics(now=NOW)

        expected = reference(orders, joined, mails)
        rows = {(r.month_index, r.months): r for r in PeriodFigures.objects.all()}
        assert set(rows) == set(expected)
        for key, values in expected.items():
            row = rows[key]
            for name, value in values.items():
                assert getattr(row, name) == value, (key, name)
            for share in (row.member_share, row.member_revenue_share, row.email_revenue_share):
                assert share is None or 0 <= share <= 1
            assert row.ending_members <= row.ending
            assert row.email_campaign_cents + row.email_flow_cents <= row.email_revenue_cents
