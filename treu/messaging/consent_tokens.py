"""The two kinds of links in consent mails.

- Confirmation (double opt-in): a random token, only its SHA-256 is stored; the link is
  single-use and expires with the pending sign-up.
- Unsubscribe / preferences: a per-recipient signed token (customer id and channel,
  signed with SECRET_KEY). It never expires: an unsubscribe link must work in any mail,
  however old, and it changes nothing but that person's own marketing permission.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core import signing

UNSUBSCRIBE_SALT = "treu.messaging.unsubscribe"


def new_confirmation_token() -> tuple[str, str]:
    """(token for the mail, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unsubscribe_token(customer_id: int, channel: str) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(f"{customer_id}.{channel}")


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(customer id, channel), or None for a forged or mangled token."""
    try:
        value = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    customer_id, _, channel = value.partition(".")
    if not customer_id.isdigit() or not channel:
        return None
    return int(customer_id), channel
