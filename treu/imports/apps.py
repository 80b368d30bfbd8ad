from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "treu.imports"
    label = "imports"
    verbose_name = _("CSV imports")

    def ready(self) -> None:
        from treu.core import navigation
        from treu.imports import privacy, tasks  # noqa: F401

        # Only the owner holds imports.add_importjob (the owner gets every treu permission):
        # an import writes customers and orders in bulk.
        navigation.register(
            navigation.NavItem(
                "imports",
                _("Import"),
                "imports:list",
                "imports.add_importjob",
                80,
                section="system",
            )
        )
