from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "treu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from treu.core import navigation, roles
        from treu.customers import events, privacy  # noqa: F401

        roles.grant(roles.MARKETING, "customers.view_customer", "customers.view_tag")
        roles.grant(
            roles.SUPPORT,
            "customers.view_customer",
            "customers.add_customer",
            "customers.change_customer",
            "customers.add_note",
            "customers.view_note",
            "customers.add_address",
            "customers.change_address",
        )
        navigation.register(
            navigation.NavItem(
                "customers", _("Customers"), "customers:list", "customers.view_customer", 20
            )
        )
