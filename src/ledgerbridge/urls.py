"""URL wiring: the web UI, the REST API, the health check and the metrics scrape."""

from django.urls import include, path

from ledgerbridge.api.api import api
from ledgerbridge.web.views.health import health
from ledgerbridge.web.views.metrics import metrics

urlpatterns = [
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("api/", api.urls),
    path("", include("ledgerbridge.web.urls")),
]
