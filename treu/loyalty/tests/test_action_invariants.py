"""Hypothesis: random sequences of actions under random rules never pay more than the rules
allow, and the balance stays the ledger sum.

Per rule and member the points awarded are at most: `once` one award, `per_year` one per
calendar year in which actions happened, `unlimited` one per distinct reference; a social
network pays once in a member's life across all rules.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors, services
from treu.loyalty.models import ActionAward, ActionRule, PointsEntry, ProgramSettings

BERLIN = timezone.get_default_timezone()
START = datetime(2025, 11, 1, 12, 0, tzinfo=BERLIN)

rule_spec = st.tuples(
    st.sampled_from(["review", "survey", "social", "custom"]),
    st.sampled_from(["once", "per_year", "unlimited"]),
    st.integers(1, 50),
)
action = st.tuples(
    st.sampled_from(["review", "survey", "social", "custom"]),
    st.sampled_from(["R-1", "R-2", "R-3"]),  # the reference (the network for social media)
    st.integers(0, 500),  # days after START: across two calendar years
    st.integers(0, 1),  # which member
)
NETWORKS = {"R-1": "instagram", "R-2": "tiktok", "R-3": "facebook"}


class TestActionInvariants(TestCase):
    @given(st.lists(rule_spec, min_size=1, max_size=4), st.lists(action, max_size=25))
    @settings(max_examples=40, deadline=None)
    def test_no_rule_pays_more_than_its_limit_and_the_balance_is_the_ledger_sum(
        self, specs, actions
    ):
        services.update_program_settings(point_name="Bohnen")
        ProgramSettings.objects.update(created_at=START - timedelta(days=1))
        rules = [
            services.save_action_rule(
                name=f"Regel {n}",
                trigger=trigger,
                limit=limit,
                points=points,
                event="workshop" if trigger == "custom" else "",
            )
            for n, (trigger, limit, points) in enumerate(specs)
        ]
        members = [
            services.join_program(customer=CustomerFactory(), now=START - timedelta(days=1))
            for _ in range(2)
        ]
        years: dict[tuple[int, str], set[int]] = defaultdict(set)
        references: dict[tuple[int, str], set[str]] = defaultdict(set)
        for trigger, reference, days, who in actions:
            when = START + timedelta(days=days)
            member = members[who]
            outcome = services.record_action(
                customer=member.customer,
                action=trigger,
                reference=reference,
                network=NETWORKS[reference] if trigger == "social" else "",
                event="workshop" if trigger == "custom" else "",
                occurred_at=when,
                now=when,
            )
            assert outcome.points >= 0
            years[(member.pk, trigger)].add(when.year)
            references[(member.pk, trigger)].add(reference)

        for member in members:
            for rule in ActionRule.objects.all():
                paid = PointsEntry.objects.filter(
                    member=member, action_award__rule=rule
                ).values_list("points", flat=True)
                allowed = {
                    "once": 1,
                    "per_year": len(years[(member.pk, rule.trigger)]),
                    "unlimited": len(references[(member.pk, rule.trigger)]),
                }[rule.limit]
                assert len(paid) <= allowed
                assert sum(paid) <= allowed * rule.points
            social = ActionAward.objects.filter(entry__member=member, trigger="social")
            per_rule_and_network = list(social.values_list("rule_id", "network"))
            assert len(per_rule_and_network) == len(set(per_rule_and_network))
            for network in NETWORKS.values():  # all from the one occasion that paid it
                dates = set(social.filter(network=network).values_list("entry__available_at"))
                assert len(dates) <= 1
            member.refresh_from_db()
            assert (member.points_balance, member.pending_points) == selectors.ledger_sums(
                member.pk
            )
            assert member.points_balance == sum(
                PointsEntry.objects.filter(member=member).values_list("points", flat=True)
            )
        assert len(rules) == ActionRule.objects.count()
