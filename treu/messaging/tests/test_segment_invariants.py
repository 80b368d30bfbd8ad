"""Hypothesis properties of segments: for any customers and any rule tree, the database's
membership is exactly what a plain Python reading of the rules says; and the event-driven
update of a few customers leaves the stored members exactly as a full refresh would."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.commerce.services import refresh_customer_summaries
from treu.loyalty.models import Member
from treu.messaging.models import Segment, SegmentMembership
from treu.messaging.segments import rules, services
from treu.messaging.tests import segment_world as w

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class SegmentMembershipProperties(TestCase):
    @SETTINGS
    @given(
        drawn=w.people,
        drawn_tree=w.trees,
        singles=st.lists(w.condition_st, min_size=10, max_size=20),
    )
    def test_the_database_holds_exactly_whom_the_rules_name(self, drawn, drawn_tree, singles):
        world = w.build(drawn)
        # Each condition alone (so no other condition decides for it), then a whole tree.
        for candidate in [*(("all", [("all", [c])]) for c in singles), drawn_tree]:
            tree = rules.normalise(w.as_rules(candidate, world))  # every drawn tree is valid
            found = set(rules.members(tree, now=w.NOW).values_list("pk", flat=True))
            want = {world.customers[i].pk for i in w.expected(drawn, candidate)}
            assert found == want, candidate

    @SETTINGS
    @given(
        drawn=w.people,
        drawn_tree=w.trees,
        changes=st.lists(
            st.tuples(
                st.integers(0, 6),
                st.sampled_from(["order", "cancel", "points", "erase", "click"]),
                st.integers(0, 400),
            ),
            min_size=1,
            max_size=4,
        ),  # fmt: skip
    )
    def test_the_event_driven_update_ends_where_a_full_refresh_would(
        self, drawn, drawn_tree, changes
    ):
        world = w.build(drawn)
        tree = rules.normalise(w.as_rules(drawn_tree, world))
        segment = Segment.objects.create(name="Eigenschaft", rules=tree)
        services.refresh_segment(segment.pk, now=w.NOW)
        touched = set()
        for n, (who, what, amount) in enumerate(changes):
            customer = world.customers[who % len(world.customers)]
            touched.add(customer.pk)
            if what == "order":
                placed, cents = w.placed(amount, 12), 100 + amount * 50
                w.add_order(
                    customer, world.shops[1], world.products, 10_000 + n, placed, cents,
                    False, 0, {amount % 3},
                )  # fmt: skip
            elif what == "cancel":
                customer.orders.update(status="cancelled")
            elif what == "points":
                Member.objects.update_or_create(
                    customer=customer, defaults={"joined_at": w.NOW, "points_balance": amount}
                )
            elif what == "click":
                w.add_mail(customer, w.NOW, "sent", True, [("click", amount % 80, 12)])
            else:
                customer.erased_at = w.NOW
                customer.save(update_fields=["erased_at"])
        refresh_customer_summaries(touched)

        services.update_memberships(touched, now=w.NOW)

        stored = set(
            SegmentMembership.objects.filter(segment=segment).values_list("customer_id", flat=True)
        )
        assert stored == set(rules.members(tree, now=w.NOW).values_list("pk", flat=True))
        segment.refresh_from_db()
        assert segment.member_count == len(stored)
        assert services.refresh_segment(segment.pk, now=w.NOW) == services.Changes(0, 0)
