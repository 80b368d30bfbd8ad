"""Reads of the earning rules for actions."""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce

from treu.loyalty.models import ActionRule


def action_rule_list() -> QuerySet[ActionRule]:
    """Every rule with its tiers, how often it awarded and how many points in all."""
    return (
        ActionRule.objects.annotate(
            award_count=Count("awards"), points_awarded=Coalesce(Sum("awards__entry__points"), 0)
        )
        .prefetch_related("eligible_tiers")
        .order_by("-active", "trigger", "name", "id")
    )


def action_rule_detail(rule_id: int) -> ActionRule:
    return ActionRule.objects.prefetch_related("eligible_tiers").get(pk=rule_id)
