from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "treu.backoffice"
    label = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from treu.backoffice import roles

        # post_migrate is sent once per app with models; sync once, after the last.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="treu-sync-roles")
