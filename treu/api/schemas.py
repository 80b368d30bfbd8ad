"""Pieces every API router shares: strict input schemas, the error schema, cursor pages."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from treu.api.errors import ApiError

try:  # django-ninja >= 1.7 says the status explicitly; older versions take a tuple
    from ninja.responses import Status
except ImportError:  # pragma: no cover

    def Status(status_code: int, value: Any):  # noqa: N802
        return status_code, value


MAX_PAGE = 200
MAX_BATCH = 1000
MAX_CENTS = 10**12  # ten billion euros: far above any order, far below the column's limit


def _storable(value: str) -> str:
    # PostgreSQL cannot store NUL, and lone surrogates cannot be encoded at all.
    if "\x00" in value:
        raise ValueError(_("The text contains a NUL character."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_("The text contains characters that are not valid Unicode.")) from None
    return value


def _sane_time(value: datetime) -> datetime:
    if not 1970 <= value.year <= 2999:
        raise ValueError(_("The date is out of range (1970 to 2999)."))
    return value


def _birthday(value: date) -> date:
    if value.year < 1900 or value > timezone.localdate():
        raise ValueError(_("The birthday must lie between 1900 and today."))
    return value


Text = Annotated[str, AfterValidator(_storable)]
Moment = Annotated[AwareDatetime, AfterValidator(_sane_time)]
Birthday = Annotated[date, AfterValidator(_birthday)]
Cents = Annotated[int, Field(strict=True, ge=0, le=MAX_CENTS)]
CLOCK_SKEW = timedelta(minutes=10)


class ErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(Schema):
    detail: list[ErrorItem]


def errors_for(*codes: int) -> dict[int, Any]:
    return {code: ErrorOut for code in (401, 403, 429, *codes)}


class StrictSchema(BaseModel):
    """Input schemas refuse fields they do not know, so a typo never passes silently.

    A plain pydantic model, not ninja's `Schema`: that one is made for reading model
    instances and wraps every validation in a validator of its own, which with
    extra="forbid" validates each input twice (the second time through a DjangoGetter per
    nested object), over half the time of a batch call. Input is parsed JSON.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _storable(value) if isinstance(value, str) else value


class Page(Schema):
    next_cursor: str | None = None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """0 for the first page; ApiError (422) for a cursor this API did not hand out."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _sep, value = raw.partition(":")
        if kind == "id" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiError(
        422,
        _("This cursor is not valid; use next_cursor from the previous page."),
        loc=("query", "cursor"),
        type="invalid_cursor",
    )


def paginate(qs, *, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """Keyset pagination over the primary key: stable while rows are added or changed."""
    after = decode_cursor(cursor)
    rows = list(qs.filter(pk__gt=after).order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].pk) if more and rows else None
