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
        from treu.loyalty import (  # noqa: F401
            demo,
            events,
            privacy,
            services,
            stamp_events,
            store_events,
            subscribers,
            tasks,
        )

        roles.grant(
            roles.MARKETING,
            "loyalty.view_member",
            "loyalty.add_member",
            "loyalty.adjust_points",
            "loyalty.view_programsettings",
            "loyalty.change_programsettings",
            "loyalty.view_reward",
            "loyalty.add_reward",
            "loyalty.change_reward",
            "loyalty.view_redemption",
            "loyalty.add_redemption",
            "loyalty.view_referral",
            "loyalty.review_referral",
            "loyalty.view_referralsettings",
            "loyalty.change_referralsettings",
            "loyalty.view_tier",
            "loyalty.add_tier",
            "loyalty.change_tier",
            "loyalty.change_tiersettings",
            "loyalty.change_expirysettings",
            "loyalty.assign_tier",
        )
        # Support looks up a customer's coupon when they call; rewards are Marketing's.
        roles.grant(
            roles.SUPPORT,
            "loyalty.view_member",
            "loyalty.add_member",
            "loyalty.view_reward",
            "loyalty.view_redemption",
            "loyalty.view_referral",
        )
        # Stamp cards: marketing designs them; every role that serves customers redeems.
        roles.grant(
            roles.MARKETING,
            "loyalty.view_stampcardtype",
            "loyalty.add_stampcardtype",
            "loyalty.change_stampcardtype",
        )
        for role in (roles.MARKETING, roles.SUPPORT, roles.CASHIER):
            roles.grant(role, "loyalty.redeem_stampvoucher")
        # Earning rules cost points like the programme settings: Marketing's (and the owner's).
        roles.grant(
            roles.MARKETING,
            "loyalty.view_purchaserule",
            "loyalty.add_purchaserule",
            "loyalty.change_purchaserule",
        )
        # Earning rules for actions: marketing sets them up; who serves customers records
        # what a member did ("Bewertung erhalten"), within the rules.
        roles.grant(
            roles.MARKETING,
            "loyalty.view_actionrule",
            "loyalty.add_actionrule",
            "loyalty.change_actionrule",
            "loyalty.record_action",
        )
        roles.grant(roles.SUPPORT, "loyalty.record_action")
        # The till: the cashier books (and enrols a customer who asks, from the till only);
        # every role that serves customers hands out member cards. Undoing another's
        # booking and the till settings: owner only.
        roles.grant(roles.CASHIER, "loyalty.use_till")
        for role in (roles.MARKETING, roles.SUPPORT, roles.CASHIER):
            roles.grant(
                role,
                "loyalty.view_membercard",
                "loyalty.add_membercard",
                "loyalty.change_membercard",
            )
        from treu.analytics import advisor
        from treu.loyalty.advice import loyalty_advice

        advisor.register("loyalty", loyalty_advice)
        from treu.core import panels
        from treu.loyalty.panels import customer_panel

        panels.register(
            "customer",
            panels.Panel(
                "loyalty", "loyalty/_customer_panel.html", customer_panel, "loyalty.view_member", 5
            ),
        )
        register_merge_handler("loyalty.Member", services.merge_members)
        register_merge_handler("loyalty.Referral", services.merge_referrals)
        # The demo's programme is built per chunk of customers; resetting it deletes customers
        # and orders, so the ledger has to go first.
        register_step(DemoStep("loyalty", chunk=demo.chunk, reset=demo.reset))
        navigation.register(
            navigation.NavItem(
                "loyalty",
                _("Members"),
                "loyalty:member_list",
                "loyalty.view_member",
                50,
                section="loyalty",
            )
        )
        navigation.register(
            navigation.NavItem(
                "loyalty_stamps",
                _("Stamp cards"),
                "loyalty:stamp_card_types",
                "loyalty.view_stampcardtype",
                51,
                section="loyalty",
            )
        )
        navigation.register(
            navigation.NavItem(
                "loyalty_stamp_redeem",
                _("Redeem stamp voucher"),
                "loyalty:stamp_voucher_redeem",
                "loyalty.redeem_stampvoucher",
                52,
                section="loyalty",
            )
        )
        navigation.register(
            navigation.NavItem("loyalty_till", _("Till"), "loyalty:till", "loyalty.use_till", 49)
        )
        navigation.register(
            navigation.NavItem(
                "loyalty_purchase_rules",
                _("Earning rules: purchases"),
                "loyalty:purchase_rules",
                "loyalty.view_purchaserule",
                54,
                section="loyalty",
            )
        )
        navigation.register(
            navigation.NavItem(
                "loyalty_action_rules",
                _("Earning rules: actions"),
                "loyalty:action_rules",
                "loyalty.view_actionrule",
                55,
                section="loyalty",
            )
        )
        navigation.register(
            navigation.NavItem(
                "loyalty_kpis",
                _("Loyalty KPIs"),
                "loyalty:kpis",
                "loyalty.view_programsettings",
                53,
                section="loyalty",
            )
        )
