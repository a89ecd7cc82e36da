"""Web UI: thin views and templates (htmx)."""
