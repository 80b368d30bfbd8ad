from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "treu.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from treu.core import navigation, roles
        from treu.messaging import privacy, tasks  # noqa: F401 - registrations, periodic sending

        # Marketing sees what was sent and why something failed, sends unclear mails again
        # and keeps the blocked addresses; the owner holds every permission anyway.
        roles.grant(
            roles.MARKETING,
            "messaging.view_outboundmessage",
            "messaging.change_outboundmessage",
            "messaging.view_suppression",
            "messaging.add_suppression",
            "messaging.delete_suppression",
        )
        roles.grant(roles.SUPPORT, "messaging.view_outboundmessage", "messaging.view_suppression")
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
