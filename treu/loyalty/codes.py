"""Codes people read out and type (coupons, referral links, stamp vouchers): made hard to
guess, read easily, typed forgivingly."""

from __future__ import annotations

import re
import secrets

# 32 characters that cannot be mistaken for each other (no 0/O, 1/I): five random bits
# each. A coupon's 12 make 60 bits, so guessing one of a shop's coupons is hopeless while
# reading one out is easy.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def new_code(*, length: int = CODE_LENGTH, group: int = 4) -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
    return _grouped(raw, group)


def new_coupon_code() -> str:
    return new_code()


def normalise_code(text: str, *, length: int = CODE_LENGTH, group: int = 4) -> str:
    """What a till or a person typed ("abcd efgh-jkmn") in the stored form ("ABCD-EFGH-JKMN")."""
    raw = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    return _grouped(raw, group) if len(raw) == length else raw


def _grouped(raw: str, group: int) -> str:
    return "-".join(raw[i : i + group] for i in range(0, len(raw), group))
