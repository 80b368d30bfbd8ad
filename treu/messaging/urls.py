from django.urls import path

from treu.messaging import (
    campaign_urls,
    consent_urls,
    flow_urls,
    outbox_views,
    segment_urls,
    template_urls,
)

app_name = "messaging"

urlpatterns = [
    *consent_urls.urlpatterns,
    *segment_urls.urlpatterns,
    *template_urls.urlpatterns,
    *campaign_urls.urlpatterns,
    *flow_urls.urlpatterns,
    path("outbox/", outbox_views.outbox, name="outbox"),
    path("outbox/<int:message_id>/resend/", outbox_views.resend, name="outbox_resend"),
    path("suppressions/", outbox_views.suppression_list, name="suppressions"),
    path(
        "suppressions/<int:suppression_id>/lift/",
        outbox_views.suppression_lift,
        name="suppression_lift",
    ),
]
