from treu.messaging import consent_urls

app_name = "messaging"

urlpatterns: list = [*consent_urls.urlpatterns]
