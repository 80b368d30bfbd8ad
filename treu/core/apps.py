from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "treu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from treu.core import (
            navigation,
            registrations,  # noqa: F401
            roles,
        )
        from treu.core import privacy as _privacy  # noqa: F401

        roles.grant(roles.MARKETING, "core.view_capturedmail")
        navigation.register(
            navigation.NavItem(
                "mails", _("Mails"), "backoffice:mail_list", "core.view_capturedmail", 90
            )
        )
