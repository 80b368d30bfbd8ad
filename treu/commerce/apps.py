from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    name = "treu.commerce"
    label = "commerce"
    verbose_name = _("Commerce")

    def ready(self) -> None:
        from treu.commerce import events, privacy, subscribers  # noqa: F401
        from treu.core import navigation, roles

        roles.grant(roles.MARKETING, "commerce.view_order", "commerce.view_product")
        roles.grant(
            roles.SUPPORT,
            "commerce.view_order",
            "commerce.view_product",
            "commerce.view_return",
            "commerce.add_return",
        )
        navigation.register(
            navigation.NavItem(
                "orders", _("Orders"), "commerce:order_list", "commerce.view_order", 30
            )
        )
        navigation.register(
            navigation.NavItem(
                "products", _("Products"), "commerce:product_list", "commerce.view_product", 40
            )
        )
