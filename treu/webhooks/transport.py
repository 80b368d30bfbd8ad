"""One HTTP POST to a receiver, with the standard library: no redirects, a hard timeout."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10.0
EXCERPT_BYTES = 500


@dataclass(frozen=True)
class Response:
    status_code: int | None
    error: str = ""
    excerpt: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A receiver that redirects gets a failed attempt: following it could send customer
    # data somewhere the admin never entered.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_RefuseRedirects)


def _excerpt(stream) -> str:
    try:
        return stream.read(EXCERPT_BYTES).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""


def post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float | None = None
) -> Response:
    if urlsplit(url).scheme not in ("http", "https"):  # never file://, ftp:// or data:
        return Response(None, error="Refused: only http and https addresses are allowed.")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener().open(request, timeout=timeout or TIMEOUT_SECONDS) as answer:
            return Response(answer.status, excerpt=_excerpt(answer))
    except urllib.error.HTTPError as error:
        with error:
            return Response(error.code, error=f"HTTP {error.code}", excerpt=_excerpt(error))
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            return Response(None, error=f"Timeout after {timeout or TIMEOUT_SECONDS:g} s")
        return Response(None, error=f"Connection failed: {reason}")
    except TimeoutError:
        return Response(None, error=f"Timeout after {timeout or TIMEOUT_SECONDS:g} s")
    except (OSError, http.client.HTTPException, ValueError) as error:
        return Response(None, error=f"{type(error).__name__}: {error}")
