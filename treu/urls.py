from django.urls import include, path

from treu.backoffice.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("treu.backoffice.urls")),
    path("customers/", include("treu.customers.urls")),
    path("commerce/", include("treu.commerce.urls")),
    path("api/", include("treu.api.urls")),
    # Mail providers' delivery reports (django-anymail), before the shop hooks below.
    path("hooks/anymail/", include("treu.messaging.tracking_hooks")),
    path("hooks/", include("treu.connectors.hook_urls")),
    path("connectors/", include("treu.connectors.urls")),
    path("imports/", include("treu.imports.urls")),
    path("webhooks/", include("treu.webhooks.urls")),
    path("loyalty/", include("treu.loyalty.urls")),
    path("analytics/", include("treu.analytics.urls")),
    path("messaging/", include("treu.messaging.urls")),
    # Links in marketing mails: click redirect and (only where allowed) the open pixel.
    path("m/", include("treu.messaging.tracking_urls")),
]
