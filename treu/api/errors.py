"""One error shape for every API answer that is not a success.

    {"detail": [{"loc": ["body", "lines", 0, "quantity"], "msg": "...", "type": "..."}]}

`loc` says where (body, query, path or header, then the field path; list positions count
from 0), `msg` says why in the request's language (German unless Accept-Language asks
for English), `type` is a stable machine-readable code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

Loc = Sequence[str | int]


class ApiError(Exception):
    """An error answer: status, one or more (loc, msg, type) entries, extra headers."""

    def __init__(
        self,
        status: int,
        msg: str,
        *,
        loc: Loc = (),
        type: str = "error",  # noqa: A002 - the name of the JSON field
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        self.status = status
        self.errors = errors or [{"loc": list(loc), "msg": msg, "type": type}]
        self.headers = headers or {}
        super().__init__(msg)


class BodyNotReadable(Exception):
    """The body is not UTF-8 JSON; raised by the parser, answered with 400."""

    def __init__(self, msg: str, type: str) -> None:  # noqa: A002
        self.msg, self.type = msg, type
        super().__init__(msg)


def error_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"detail": errors}


def error_response(
    status: int,
    msg: str,
    *,
    loc: Loc = (),
    type: str = "error",
    headers=None,  # noqa: A002
) -> JsonResponse:
    """For answers given before django-ninja sees the request (413, unknown path)."""
    response = JsonResponse(
        error_body([{"loc": list(loc), "msg": msg, "type": type}]), status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# -- Field messages ---------------------------------------------------------------------------


def _field_message(error: dict[str, Any]) -> str:
    """pydantic's English messages, as treu's own translatable sentences."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    last = str(error["loc"][-1]) if error.get("loc") else ""
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field; check the spelling against the API documentation.")
    if kind.startswith("int_") or kind == "int_type":
        if last.endswith("_cents"):
            return _("Amounts are whole euro cents, e.g. 2990 for 29,90 €.")
        return _("Enter a whole number.")
    if kind in {"string_type", "string_unicode"}:
        return _("Enter a text.")
    if kind.startswith("bool_"):
        return _("Enter true or false.")
    if kind == "timezone_aware":
        return _("The time needs a UTC offset, e.g. 2024-05-03T14:30:00+02:00.")
    if kind.startswith("datetime_"):
        return _(
            "Enter a date and time in ISO 8601 with a UTC offset, e.g. 2024-05-03T14:30:00+02:00."
        )
    if kind.startswith("date_"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind == "greater_than_equal":
        return _("Must be at least %(limit)s.") % {"limit": ctx.get("ge")}
    if kind == "greater_than":
        return _("Must be greater than %(limit)s.") % {"limit": ctx.get("gt")}
    if kind == "less_than_equal":
        return _("Must be at most %(limit)s.") % {"limit": ctx.get("le")}
    if kind == "less_than":
        return _("Must be less than %(limit)s.") % {"limit": ctx.get("lt")}
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("This field must not be empty.")
        return _("Enter at least %(n)s characters.") % {"n": ctx.get("min_length")}
    if kind == "string_too_long":
        return _("Enter at most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind == "too_short":
        return _("Send at least %(n)s entries.") % {"n": ctx.get("min_length")}
    if kind == "too_long":
        return _("Send at most %(n)s entries per call.") % {"n": ctx.get("max_length")}
    if kind in {"literal_error", "enum"}:
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind == "list_type":
        return _("Enter a list.")
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return _("Enter an object.")
    if kind == "string_pattern_mismatch":
        return _("The format is not valid.")
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "")))
    if kind == "json_invalid":
        return _("This is not valid JSON.")
    return str(error.get("msg") or _("This value is not valid."))


def _clean_loc(loc: Iterable[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def from_pydantic(errors: Iterable[dict[str, Any]], *, prefix: Loc = ()) -> list[dict[str, Any]]:
    return [
        {
            "loc": [*prefix, *_clean_loc(e["loc"])],
            "msg": _field_message(e),
            "type": e.get("type", "invalid"),
        }
        for e in errors
    ]


def _service_loc(key: str, prefix: Loc) -> list[str | int]:
    """Service keys like "lines.2" count from 1; the API counts list positions from 0."""
    if key in (NON_FIELD_ERRORS, "order"):
        return list(prefix)
    parts: list[str | int] = []
    for part in key.split("."):
        parts.append(int(part) - 1 if part.isdigit() else part)
    return [*prefix, *parts]


def from_service(
    exc: ValidationError, *, prefix: Loc = ("body",), rename: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """A service refusal (CustomerError, OrderRejected, ProductRejected) as error entries."""
    rename = rename or {}
    if hasattr(exc, "error_dict"):
        return [
            {"loc": _service_loc(rename.get(key, key), prefix), "msg": msg, "type": "rejected"}
            for key, messages in exc.message_dict.items()
            for msg in messages
        ]
    return [{"loc": list(prefix), "msg": msg, "type": "rejected"} for msg in exc.messages]


# -- Handlers ---------------------------------------------------------------------------------


def _respond(api: NinjaAPI, request, status: int, errors, headers=None) -> HttpResponse:
    response = api.create_response(request, error_body(errors), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return _respond(api, request, exc.status, exc.errors, exc.headers)

    @api.exception_handler(NinjaValidationError)
    def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return _respond(api, request, 422, from_pydantic(exc.errors))

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        cause = exc.__cause__
        if isinstance(cause, BodyNotReadable):
            return _respond(
                api, request, 400, [{"loc": ["body"], "msg": cause.msg, "type": cause.type}]
            )
        if isinstance(exc, AuthenticationError):
            msg = _(
                "An API key is needed: send it as 'Authorization: Bearer <key>' or 'X-API-Key'."
            )
            errors = [{"loc": ["header", "Authorization"], "msg": msg, "type": "unauthorized"}]
            return _respond(api, request, 401, errors, {"WWW-Authenticate": "Bearer"})
        if exc.status_code == 400:
            msg = _("The request body cannot be read.")
            return _respond(
                api, request, 400, [{"loc": ["body"], "msg": msg, "type": "bad_request"}]
            )
        return _respond(
            api, request, exc.status_code, [{"loc": [], "msg": str(exc), "type": "error"}]
        )

    @api.exception_handler(ValidationError)
    def _service_refusal(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        # A service refused (nothing was written); anything it names is in the body.
        return _respond(api, request, 422, from_service(exc))

    from django.http import Http404

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _respond(
            api, request, 404, [{"loc": ["path"], "msg": _("Not found."), "type": "not_found"}]
        )


def not_found(what: str, *, loc: Loc = ("path",)) -> ApiError:
    return ApiError(404, what, loc=loc, type="not_found")


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8 only, no NaN/Infinity, no duplicate keys."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyNotReadable(
            _("The body is not valid UTF-8 (byte %(pos)d).") % {"pos": exc.start}, "invalid_utf8"
        ) from None
    text = text.removeprefix("\ufeff")

    def _no_constants(name: str):
        raise BodyNotReadable(
            _("%(name)s is not allowed in JSON; send a number.") % {"name": name}, "invalid_json"
        )

    def _unique_keys(pairs):
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise BodyNotReadable(
                    _("The field %(name)s appears twice.") % {"name": key}, "invalid_json"
                )
            seen[key] = value
        return seen

    try:
        return json.loads(text, parse_constant=_no_constants, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise BodyNotReadable(
            _("The body is not valid JSON: %(reason)s at line %(line)d, column %(column)d.")
            % {"reason": exc.msg, "line": exc.lineno, "column": exc.colno},
            "invalid_json",
        ) from None
    except RecursionError:
        raise BodyNotReadable(_("The JSON is nested too deeply."), "invalid_json") from None
