from treu.messaging import segment_urls

app_name = "messaging"

urlpatterns: list = [*segment_urls.urlpatterns]
