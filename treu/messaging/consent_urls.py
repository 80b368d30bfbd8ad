"""URLs of the consent part, included by the app's urls.py."""

from django.urls import path

from treu.messaging import consent_backoffice_views as backoffice
from treu.messaging import consent_views as public

urlpatterns = [
    # Public, no login (listed in core/tests/test_url_access.py's PUBLIC).
    path("newsletter/", public.signup, name="consent_signup"),
    path("newsletter/extern/", public.signup_embedded, name="consent_signup_embed"),
    path("newsletter/danke/", public.signup_done, name="consent_signup_done"),
    path("newsletter/bestaetigen/<str:token>/", public.confirm, name="consent_confirm"),
    path("newsletter/abmelden/<str:token>/", public.unsubscribe, name="unsubscribe"),
    path(
        "newsletter/abmelden/<str:token>/one-click/",
        public.unsubscribe_one_click,
        name="unsubscribe_one_click",
    ),
    path(
        "newsletter/abmelden/<str:token>/grund/",
        public.unsubscribe_reason,
        name="unsubscribe_reason",
    ),
    path("newsletter/einstellungen/<str:token>/", public.preferences, name="preferences"),
    # The back office.
    path("consent/", backoffice.overview, name="consent_overview"),
    path("consent/texts/", backoffice.texts, name="consent_texts"),
    path("consent/texts/publish/", backoffice.text_publish, name="consent_text_publish"),
    path("consent/topics/", backoffice.topics, name="consent_topics"),
    path("consent/topics/new/", backoffice.topic_new, name="consent_topic_new"),
    path("consent/topics/<int:topic_id>/", backoffice.topic_edit, name="consent_topic_edit"),
    path("consent/form/", backoffice.embed, name="consent_embed"),
    path("consent/customers/<int:customer_id>/", backoffice.proof, name="consent_proof"),
    path(
        "consent/customers/<int:customer_id>/unsubscribe/",
        backoffice.staff_withdraw,
        name="consent_staff_withdraw",
    ),
]
