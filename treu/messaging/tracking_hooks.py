"""django-anymail's tracking webhooks, mounted under /hooks/anymail/ and wired to the outbox.

Only the tracking URLs (no inbound mail), and only while a webhook secret is configured
(`ANYMAIL_WEBHOOK_SECRET`, HTTP basic auth "user:password"): without one anyone could
block addresses, so the hooks answer 404 instead of anymail's warning-and-accept.
"""

from __future__ import annotations

from functools import wraps

from anymail import urls as anymail_urls
from anymail.signals import tracking
from django.conf import settings
from django.dispatch import receiver
from django.http import Http404
from django.urls import URLPattern

app_name = "anymail"


def _secured(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (getattr(settings, "ANYMAIL", {}) or {}).get("WEBHOOK_SECRET"):
            raise Http404("Anymail webhooks are off: ANYMAIL_WEBHOOK_SECRET is not set.")
        return view(request, *args, **kwargs)

    wrapper.csrf_exempt = True
    return wrapper


def _tracking_patterns() -> list[URLPattern]:
    patterns = []
    for pattern in anymail_urls.urlpatterns:
        if not (pattern.name or "").endswith("_tracking_webhook"):
            continue
        patterns.append(URLPattern(pattern.pattern, _secured(pattern.callback), name=pattern.name))
    return patterns


urlpatterns = _tracking_patterns()


@receiver(tracking, dispatch_uid="treu.messaging.tracking")
def _on_tracking(sender, event, esp_name, **kwargs) -> None:
    from treu.messaging.services.tracking import record_tracking_event

    record_tracking_event(event, esp_name=esp_name)
