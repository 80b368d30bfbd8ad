"""Segments' part of `MessagingConfig.ready()` (kept apart: consent and the outbox have theirs)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def ready() -> None:
    from treu.core import navigation, roles
    from treu.customers.services import register_merge_handler
    from treu.demo.generator import DemoStep, register_step
    from treu.messaging.segments import (  # noqa: F401
        demo,
        events,
        fields,
        lists,
        privacy,
        services,
        subscribers,
        tasks,
    )

    fields.register_builtin_fields()
    lists.register()
    subscribers.connect()
    # Marketing builds the segments campaigns go to; the owner has every permission anyway.
    roles.grant(
        roles.MARKETING,
        "messaging.view_segment",
        "messaging.add_segment",
        "messaging.change_segment",
        "messaging.delete_segment",
    )
    register_merge_handler("messaging.SegmentMembership", services.drop_duplicate_memberships)
    register_merge_handler("messaging.CustomerListEntry", lists.move_list_entries)
    # Named so it sorts after "analytics" and "loyalty": steps finish in name order, and
    # the example segments read the RFM figures and tiers those steps write.
    register_step(DemoStep("segments", reset=demo.reset, finish=demo.finish))
    navigation.register(
        navigation.NavItem(
            "messaging_segments",
            _("Segments"),
            "messaging:segment_list",
            "messaging.view_segment",
            61,
            section="messaging",
        )
    )
