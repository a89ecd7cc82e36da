"""URL wiring: the web UI, the REST API and the health check."""

from django.urls import include, path

urlpatterns = [
    path("", include("ledgerbridge.web.urls")),
]
