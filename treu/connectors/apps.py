from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "treu.connectors"
    label = "connectors"
    verbose_name = _("Shop connections")

    def ready(self) -> None:
        from treu.connectors import privacy, tasks  # noqa: F401
        from treu.core import navigation

        # Owner only: the owner role holds every treu permission; no other role is granted.
        navigation.register(
            navigation.NavItem(
                "connectors",
                _("Shop connections"),
                "connectors:list",
                "connectors.view_shopconnection",
                85,
                section="system",
            )
        )
