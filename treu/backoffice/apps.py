from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "treu.backoffice"
    label = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from treu.backoffice import roles
        from treu.core import navigation

        # post_migrate is sent once per app with models; sync once, after the last.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="treu-sync-roles")
        navigation.register(
            navigation.NavItem("overview", _("Overview"), "backoffice:overview", None, 10)
        )
        navigation.register(
            navigation.NavItem(
                "mails",
                _("Sent mails"),
                "backoffice:mail_list",
                "core.view_capturedmail",
                90,
                section="system",
            )
        )
