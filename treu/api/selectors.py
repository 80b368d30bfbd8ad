"""Reads of the API app: the key list of the back office."""

from __future__ import annotations

from django.db.models import QuerySet

from treu.api.models import ApiKey


def key_list() -> QuerySet[ApiKey]:
    """Active keys first, newest first; revoked keys stay listed for the record."""
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at", "-id")


def key_by_id(key_id: int) -> ApiKey | None:
    return ApiKey.objects.filter(pk=key_id).first()
