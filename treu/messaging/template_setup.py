"""Mail templates' part of `MessagingConfig.ready()`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def ready() -> None:
    from django.db.models.signals import post_migrate

    from treu.core import navigation, roles
    from treu.messaging import services
    from treu.messaging.mail_templates import privacy  # noqa: F401

    # Marketing writes the mails; the owner has every permission anyway.
    roles.grant(
        roles.MARKETING,
        "messaging.view_mailtemplate",
        "messaging.add_mailtemplate",
        "messaging.change_mailtemplate",
        "messaging.delete_mailtemplate",
    )
    # The German defaults, after every migrate (and every flush of a test database).
    post_migrate.connect(
        services.default_templates_after_migrate,
        sender=None,
        dispatch_uid="treu-mail-templates",
    )
    navigation.register(
        navigation.NavItem(
            "messaging_templates",
            _("Mail templates"),
            "messaging:template_list",
            "messaging.view_mailtemplate",
            62,
            section="messaging",
        )
    )
