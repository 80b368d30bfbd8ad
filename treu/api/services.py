"""Writes of the API app: keys, the shared rate-limit counters, idempotency records."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.api.models import ApiKey, IdempotencyRecord, RateWindow, Scope

KEY_PREFIX = "treu_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # "treu_" and 8 hex digits
IDEMPOTENCY_TTL = timedelta(hours=24)
RATE_WINDOW_KEEP = timedelta(hours=1)


class ApiKeyError(ValidationError):
    """A key that cannot be created as asked; German messages per field."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the full key; shown once, never stored


@transaction.atomic
def create_key(
    *, name: str, scopes: list[str], created_by=None, rate_limit_per_minute: int = 600
) -> NewKey:
    """A new key "treu_<8 hex>_<random>"; only its prefix and a hash of the whole are kept."""
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the key a name, e.g. the shop it is for.")]
    unknown = set(scopes) - set(Scope.values)
    if not scopes or unknown:
        errors["scopes"] = [_("Choose at least one of the scopes read, write or checkout.")]
    if not 1 <= rate_limit_per_minute <= 100_000:
        errors["rate_limit_per_minute"] = [_("Choose between 1 and 100,000 requests per minute.")]
    if errors:
        raise ApiKeyError(errors)
    while True:  # 32 bits of prefix: a clash is rare, but must not become a crash
        prefix = f"{KEY_PREFIX}{secrets.token_hex(4)}"
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=" ".join(s for s in Scope.values if s in scopes),
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=created_by,
    )
    return NewKey(key=key, secret=secret)


@transaction.atomic
def revoke_key(key: ApiKey, *, when: datetime | None = None) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = when or timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def key_for_secret(secret: str) -> ApiKey | None:
    """The active key with this secret, or None. Constant-time comparison of the hashes."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    prefix = secret[:PREFIX_LENGTH]  # the random part may contain "_" itself
    key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None
    return key


def touch_key(key: ApiKey, *, now: datetime, every: timedelta) -> None:
    """Remember the last use, at most once per `every`: no write on every request."""
    if key.last_used_at is None or now - key.last_used_at >= every:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def count_request(key: ApiKey, *, now: datetime | None = None) -> tuple[bool, float]:
    """Count one request in the key's current minute: (allowed, seconds until the next minute).

    The counter lives in the database and is raised with UPDATE … SET count = count + 1,
    so every app process (and every server) shares it.
    """
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    wait = 60 - (now - minute).total_seconds()
    windows = RateWindow.objects.filter(key=key, minute=minute)
    if not windows.update(count=F("count") + 1):
        try:
            with transaction.atomic():
                RateWindow.objects.create(key=key, minute=minute, count=1)
        except IntegrityError:  # another process opened this minute first
            windows.update(count=F("count") + 1)
    count = windows.values_list("count", flat=True).first() or 0
    return count <= key.rate_limit_per_minute, wait


def expire_records(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete idempotency records older than 24 hours and finished rate windows."""
    now = now or timezone.now()
    records = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL).delete()[0]
    windows = RateWindow.objects.filter(minute__lt=now - RATE_WINDOW_KEEP).delete()[0]
    return records, windows
