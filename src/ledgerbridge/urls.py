"""URL wiring: the web UI, the REST API and the health check."""

from django.urls import include, path

from ledgerbridge.api.api import api
from ledgerbridge.web.views.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("api/", api.urls),
    path("", include("ledgerbridge.web.urls")),
]
