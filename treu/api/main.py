"""The REST API, version 1: one NinjaAPI instance, the routers of the apps mounted on it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from treu.api import errors
from treu.api.auth import API_AUTH

DESCRIPTION = """\
treu's REST API for shops, POS systems and imports. Authenticate with an API key
(`Authorization: Bearer <key>` or `X-API-Key: <key>`), created in the back office under
*API keys*. Money is integer euro cents (`"total_cents": 2990` is 29,90 €), currency EUR only;
times are ISO 8601 with a UTC offset. Every write accepts an `Idempotency-Key` header.
Errors always look like `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`.
See docs/api.md.
"""


class StrictParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        return errors.parse_json(request.body)


class TreuAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts) -> NinjaValidationError:
        # A single body schema is wrapped by django-ninja under its parameter name; clients
        # know nothing of that name, so locations start at the body itself.
        result = super().validation_error_from_error_contexts(error_contexts)
        for context, error in zip(_expand(error_contexts), result.errors, strict=False):
            attr = getattr(context.model, "__read_from_single_attr__", None)
            loc = tuple(error["loc"])
            if attr and len(loc) >= 2 and loc[0] == "body" and loc[1] == attr:
                error["loc"] = (loc[0], *loc[2:])
        return result


def _expand(error_contexts):
    for context in error_contexts:
        for _error in context.pydantic_validation_error.errors(include_url=False):
            yield context


def build_api() -> TreuAPI:
    from treu.commerce.api import orders_router, products_router
    from treu.customers.api import router as customers_router
    from treu.loyalty.action_api import router as loyalty_actions_router
    from treu.loyalty.api import router as checkout_router
    from treu.loyalty.referral_api import router as referral_router

    api = TreuAPI(
        title="treu API",
        version="1",
        description=DESCRIPTION,
        urls_namespace="api:v1",
        auth=API_AUTH,
        parser=StrictParser(),
        docs_url=None,  # the docs page is /api/docs, rendered without any CDN (see views)
        openapi_url="/openapi.json",
    )
    errors.install(api)
    api.add_router("/customers", customers_router)
    api.add_router("/products", products_router)
    api.add_router("/orders", orders_router)
    api.add_router("/checkout", checkout_router)
    api.add_router("/checkout/referrals", referral_router)
    api.add_router("/loyalty", loyalty_actions_router)
    return api


api = build_api()
