from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "treu.api"
    label = "api"
    verbose_name = _("REST API")

    def ready(self) -> None:
        from treu.api import privacy, tasks  # noqa: F401
        from treu.core import navigation

        # Only the owner holds the api.* permissions (the owner role gets every treu one).
        navigation.register(
            navigation.NavItem(
                "api_keys", _("API keys"), "api:key_list", "api.view_apikey", 85, section="system"
            )
        )
