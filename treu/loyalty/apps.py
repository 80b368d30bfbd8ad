from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "treu.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from treu.core import navigation, roles
        from treu.customers.services import register_merge_handler
        from treu.demo.generator import DemoStep, register_step
        from treu.loyalty import demo, events, privacy, services, subscribers, tasks  # noqa: F401

        roles.grant(
            roles.MARKETING,
            "loyalty.view_member",
            "loyalty.add_member",
            "loyalty.adjust_points",
            "loyalty.view_programsettings",
            "loyalty.change_programsettings",
            "loyalty.view_tier",
            "loyalty.add_tier",
            "loyalty.change_tier",
            "loyalty.change_tiersettings",
            "loyalty.change_expirysettings",
            "loyalty.assign_tier",
        )
        roles.grant(roles.SUPPORT, "loyalty.view_member", "loyalty.add_member")
        register_merge_handler("loyalty.Member", services.merge_members)
        # Resetting the demo deletes customers and orders: the ledger has to go first.
        register_step(DemoStep("loyalty", reset=demo.reset))
        navigation.register(
            navigation.NavItem(
                "loyalty", _("Loyalty"), "loyalty:member_list", "loyalty.view_member", 50
            )
        )
