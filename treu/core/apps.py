from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "treu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from treu.core import lookups, postgres, registrations, roles  # noqa: F401

        lookups.register()
        connection_created.connect(postgres.use_c_timestamp_loader, dispatch_uid="treu-c-tz-loader")

        roles.grant(roles.MARKETING, "core.view_capturedmail")
