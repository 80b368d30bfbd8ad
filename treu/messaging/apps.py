from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "treu.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from treu.messaging import segment_setup

        segment_setup.ready()
