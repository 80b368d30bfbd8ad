"""Campaigns' part of `MessagingConfig.ready()`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def ready() -> None:
    from treu.core import navigation, privacy, roles
    from treu.demo.generator import DemoStep, register_step
    from treu.messaging import campaign_demo, campaign_tasks  # noqa: F401 - the periodic send
    from treu.messaging.models import Campaign
    from treu.messaging.selectors import campaigns as campaign_selectors
    from treu.messaging.selectors.sending import register_send_names

    register_send_names(campaign_selectors.campaign_send_names)
    privacy.not_personal(
        Campaign, reason="A campaign's name labels a newsletter; who got it is in the outbox."
    )
    # Named to finish after "segments": the demo campaigns go to the example segments.
    register_step(
        DemoStep("sent_campaigns", reset=campaign_demo.reset, finish=campaign_demo.finish)
    )

    # Marketing plans, sends and measures campaigns; the owner has every permission anyway.
    roles.grant(
        roles.MARKETING,
        "messaging.view_campaign",
        "messaging.add_campaign",
        "messaging.change_campaign",
        "messaging.delete_campaign",
    )
    navigation.register(
        navigation.NavItem(
            "messaging_campaigns",
            _("Campaigns"),
            "messaging:campaign_list",
            "messaging.view_campaign",
            63,
            section="messaging",
        )
    )
    navigation.register(
        navigation.NavItem(
            "messaging_sending_rules",
            _("Sending rules"),
            "messaging:sending_rules",
            "messaging.view_sendingrules",
            64,
            section="messaging",
        )
    )
