"""REST API (django-ninja routers), thin."""
