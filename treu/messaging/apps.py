from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "treu.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from treu.core import navigation, roles
        from treu.customers.services import register_merge_handler
        from treu.demo.generator import DemoStep, register_step
        from treu.messaging import (  # noqa: F401 - registrations, periodic tasks
            consent_demo,
            consent_events,
            consent_privacy,
            consent_tasks,
            engagement_events,
            privacy,
            segment_setup,
            sending_setup,
            services,
            tasks,
            tracking_hooks,
        )

        # Consent: Marketing runs the newsletter (texts, topics, the overview, the form);
        # Support answers "since when do you mail me?" with the proof and records an
        # unsubscribe asked for on the phone.
        roles.grant(
            roles.MARKETING,
            "messaging.view_consent",
            "messaging.view_consent_proof",
            "messaging.change_consent",
            "messaging.view_consenttext",
            "messaging.add_consenttext",
            "messaging.view_topic",
            "messaging.add_topic",
            "messaging.change_topic",
        )
        roles.grant(roles.SUPPORT, "messaging.view_consent_proof", "messaging.change_consent")
        # The outbox: Marketing sees what was sent and why something failed, sends unclear
        # mails again and keeps the blocked addresses; Support reads.
        roles.grant(
            roles.MARKETING,
            "messaging.view_outboundmessage",
            "messaging.change_outboundmessage",
            "messaging.view_suppression",
            "messaging.add_suppression",
            "messaging.delete_suppression",
        )
        roles.grant(roles.SUPPORT, "messaging.view_outboundmessage", "messaging.view_suppression")
        # The German default wordings, after every migrate (and every flush of a test database).
        post_migrate.connect(
            services.default_texts_after_migrate, sender=self, dispatch_uid="treu-consent-texts"
        )
        from treu.analytics import advisor
        from treu.messaging.consent_advice import consent_advice

        advisor.register("messaging_consent", consent_advice)
        from treu.core import panels
        from treu.messaging.consent_panels import customer_panel as consent_panel

        panels.register(
            "customer",
            panels.Panel(
                "consent",
                "messaging/_customer_consent_panel.html",
                consent_panel,
                "messaging.view_consent_proof",
                8,
            ),
        )
        register_merge_handler("messaging.Consent", services.merge_consents)
        # The records move with their consent (merge_consents); nothing is left to move here.
        register_merge_handler("messaging.ConsentRecord", lambda survivor, duplicate: 0)
        register_step(
            DemoStep("messaging_consent", chunk=consent_demo.chunk, reset=consent_demo.reset)
        )
        navigation.register(
            navigation.NavItem(
                "messaging_consent",
                _("Newsletter consent"),
                "messaging:consent_overview",
                "messaging.view_consent",
                60,
                section="messaging",
            )
        )
        navigation.register(
            navigation.NavItem(
                "outbox",
                _("Outbox"),
                "messaging:outbox",
                "messaging.view_outboundmessage",
                88,
                section="system",
            )
        )
        segment_setup.ready()
        from treu.messaging import template_setup

        template_setup.ready()
        sending_setup.ready()
        from treu.messaging import campaign_setup

        campaign_setup.ready()
        from treu.messaging import flow_setup

        flow_setup.ready()
