"""Automations' part of `MessagingConfig.ready()`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def move_enrollments(*, survivor, duplicate) -> int:
    """Merge handler: the duplicate's enrollments go to the survivor, except occasions the
    survivor has in the same flow already (a birthday is celebrated once)."""
    from treu.messaging.models import Enrollment

    taken = Enrollment.objects.filter(customer_id=survivor.pk).values_list("flow_id", "occasion")
    doubles = [
        e.pk
        for e in Enrollment.objects.filter(customer_id=duplicate.pk)
        if (e.flow_id, e.occasion) in set(taken)
    ]
    Enrollment.objects.filter(pk__in=doubles).delete()
    return Enrollment.objects.filter(customer_id=duplicate.pk).update(customer_id=survivor.pk)


def ready() -> None:
    from django.db.models.signals import post_migrate

    from treu.analytics import advisor
    from treu.core import navigation, roles
    from treu.customers.services import register_merge_handler
    from treu.demo.generator import DemoStep, register_step
    from treu.messaging.flows import (  # noqa: F401 - subscribers, periodic tasks, privacy
        advice,
        demo,
        privacy,
        services,
        tasks,
        triggers,
    )

    # Marketing runs the automations; Support and Marketing do the tasks they hand over.
    roles.grant(roles.MARKETING, "messaging.view_flow", "messaging.change_flow")
    roles.grant(roles.MARKETING, "messaging.view_stafftask", "messaging.change_stafftask")
    roles.grant(roles.SUPPORT, "messaging.view_stafftask", "messaging.change_stafftask")
    # After the default templates (connected before this): the defaults send them.
    post_migrate.connect(
        services.default_flows_after_migrate, sender=None, dispatch_uid="treu-default-flows"
    )
    register_merge_handler("messaging.Enrollment", move_enrollments)
    # Named after "analytics", "loyalty" and "messaging_consent": the demo's flows read the
    # predictions, members and subscribers those steps write.
    register_step(DemoStep("messaging_flows", reset=demo.reset, finish=demo.finish))
    advisor.register("messaging_flows", advice.flow_advice)
    from treu.messaging.flows import selectors as flow_selectors
    from treu.messaging.selectors import register_send_names

    register_send_names(flow_selectors.send_names)
    navigation.register(
        navigation.NavItem(
            "messaging_flows",
            _("Automations"),
            "messaging:flow_list",
            "messaging.view_flow",
            63,
            section="messaging",
        )
    )
    navigation.register(
        navigation.NavItem(
            "messaging_tasks",
            _("Tasks"),
            "messaging:task_list",
            "messaging.view_stafftask",
            64,
            section="messaging",
        )
    )
