"""What happens to an API request before django-ninja routes it: size limit and idempotency.

Every write (POST, PUT, PATCH, DELETE) may carry an `Idempotency-Key` header. The first
successful answer is stored per (API key, Idempotency-Key) with a fingerprint of the request
(method, path, body). Sending the same request again returns that answer unchanged, with
`Idempotent-Replayed: true`, and runs nothing. The same Idempotency-Key with a different
request is refused (422). The record is written in the same transaction as the work itself,
behind a unique constraint, so two concurrent duplicates never both take effect: the second
waits for the first and then replays its answer. Errors are not stored, so a refused request
may be corrected and sent again under the same key.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from treu.api import auth
from treu.api.errors import ApiError, error_response
from treu.api.models import IdempotencyRecord

MAX_BODY_BYTES = 5 * 1024 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class _Unstored(Exception):
    """Carries an error answer out of the transaction, so its record is rolled back."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode())
        digest.update(b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
    if record.fingerprint != fingerprint:
        raise ApiError(
            422,
            _(
                "This Idempotency-Key was already used for a different request; "
                "use a new key for a new request."
            ),
            loc=("header", HEADER),
            type="idempotency_key_reused",
        )
    response = HttpResponse(
        record.response_body, status=record.status_code, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _read_body(request: HttpRequest) -> HttpResponse | None:
    """Refuse big bodies by their declared length, before reading a byte of them."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return _too_large()
    # Read it ourselves: Django's own 2.5 MB limit would refuse a full batch of 1,000 orders.
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _too_large()
    request._body = body  # noqa: SLF001 - request.body then returns it
    return None


def _too_large() -> HttpResponse:
    return error_response(
        413,
        _("The request body is larger than %(mb)d MB; send large batches in parts.")
        % {"mb": MAX_BODY_BYTES // (1024 * 1024)},
        loc=("body",),
        type="too_large",
    )


def _run_idempotent(view, request: HttpRequest, args, kwargs, api_key, idem_key: str):
    fingerprint = _fingerprint(request)
    records = IdempotencyRecord.objects.filter(key=api_key, idempotency_key=idem_key)
    with transaction.atomic():
        existing = records.first()
        if existing is not None:
            return _replay(existing, fingerprint)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    key=api_key,
                    idempotency_key=idem_key,
                    fingerprint=fingerprint,
                    method=request.method or "",
                    path=request.get_full_path()[:500],
                    status_code=0,
                )
        except IntegrityError:
            # A concurrent duplicate committed first (the insert waited for it): replay it.
            return _replay(records.get(), fingerprint)
        response = view(request, *args, **kwargs)
        if not 200 <= response.status_code < 300:
            raise _Unstored(response)
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "application/json")[:100]
        record.response_body = response.content.decode("utf-8")
        record.save(update_fields=["status_code", "content_type", "response_body"])
        return response


def guard(view):
    """Wraps each django-ninja URL view: body limit first, then idempotent writes."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method in WRITE_METHODS:
            refused = _read_body(request)
            if refused is not None:
                return refused
        idem_key = request.headers.get(HEADER, "").strip()
        if request.method not in WRITE_METHODS or not idem_key:
            return view(request, *args, **kwargs)
        if len(idem_key) > MAX_KEY_LENGTH:
            return error_response(
                422,
                _("The Idempotency-Key may have at most %(n)d characters.") % {"n": MAX_KEY_LENGTH},
                loc=("header", HEADER),
                type="string_too_long",
            )
        found = auth.key_from_headers(request)
        if found is None:
            return view(request, *args, **kwargs)  # django-ninja answers 401
        try:
            api_key = auth.authenticate(request, found[0], header=found[1])
        except ApiError:
            return view(request, *args, **kwargs)  # django-ninja answers with the same error
        try:
            return _run_idempotent(view, request, args, kwargs, api_key, idem_key)
        except _Unstored as unstored:
            return unstored.response
        except ApiError as refused:
            return error_response(
                refused.status, refused.errors[0]["msg"], loc=refused.errors[0]["loc"],
                type=refused.errors[0]["type"],
            )  # fmt: skip

    return wrapper
