from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "treu.webhooks"
    label = "webhooks"
    verbose_name = _("Outbound webhooks")

    def ready(self) -> None:
        from treu.core import navigation
        from treu.webhooks import privacy, subscribers, tasks  # noqa: F401

        # Admin only: no role is granted webhooks permissions; the owner holds every one.
        navigation.register(
            navigation.NavItem(
                "webhooks",
                _("Webhooks"),
                "webhooks:list",
                "webhooks.view_endpoint",
                85,
                section="system",
            )
        )
