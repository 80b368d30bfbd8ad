from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "treu.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from treu.analytics import privacy, services, tasks  # noqa: F401
        from treu.analytics.recommendations import views as recommendation_views
        from treu.core import navigation, panels, roles
        from treu.customers.services import register_merge_handler
        from treu.demo.generator import DemoStep, register_step

        # Owner gets every permission anyway; Marketing reads and refreshes the figures,
        # only the owner sets targets (change_analyticssettings).
        roles.grant(roles.MARKETING, "analytics.view_analytics", "analytics.recompute_analytics")
        # The experiment log is Marketing's working tool as much as the owner's.
        roles.grant(roles.MARKETING, "analytics.add_experiment", "analytics.change_experiment")
        for label in (
            "analytics.CustomerFigures",
            "analytics.CustomerMonth",
            "analytics.ActivitySpell",
            "analytics.CustomerProduct",
            "analytics.CustomerPrediction",
        ):
            register_merge_handler(label, services.delete_customer_figures)
        register_step(
            DemoStep("analytics", reset=services.reset_for_demo, finish=services.compute_for_demo)
        )
        from treu.analytics.panels import customer_value_panel

        panels.register(
            "customer",
            panels.Panel(
                "analytics-value",
                "analytics/_customer_value.html",
                customer_value_panel,
                "analytics.view_analytics",
                order=15,
            ),
        )
        panels.register(
            "customer",
            panels.Panel(
                "analytics-recommendations",
                "analytics/_customer_recommendations.html",
                recommendation_views.customer_panel,
                "analytics.view_analytics",
                order=20,
            ),
        )
        panels.register(
            "product",
            panels.Panel(
                "analytics-related",
                "analytics/_product_recommendations.html",
                recommendation_views.product_panel,
                "analytics.view_analytics",
                order=20,
            ),
        )
        navigation.register(
            navigation.NavItem(
                "analytics", _("Analytics"), "analytics:dashboard", "analytics.view_analytics", 15
            )
        )
