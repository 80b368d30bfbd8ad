from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "treu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from treu.core import lookups, registrations, roles  # noqa: F401

        lookups.register()

        roles.grant(roles.MARKETING, "core.view_capturedmail")
