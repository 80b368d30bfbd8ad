"""Coupon codes: made hard to guess, read easily, typed forgivingly."""

from __future__ import annotations

import re
import secrets

# 12 characters from 32 that cannot be mistaken for each other (no 0/O, 1/I): 60 random
# bits, so guessing one of a shop's coupons is hopeless while reading one out is easy.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def new_coupon_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return _grouped(raw)


def normalise_code(text: str) -> str:
    """What a till or a person typed ("abcd efgh-jkmn") in the stored form ("ABCD-EFGH-JKMN")."""
    raw = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    return _grouped(raw) if len(raw) == CODE_LENGTH else raw


def _grouped(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
