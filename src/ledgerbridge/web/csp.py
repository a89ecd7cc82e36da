"""Content-Security-Policy on every HTML page (the policy itself is in settings).

Pages load scripts and styles only from the product's own static files (htmx
included): no inline script, style or event handler, so markup that slipped
past escaping cannot run. A constant header needs no nonce, hence no package.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def content_security_policy() -> str:
    return _policy(tuple(settings.CONTENT_SECURITY_POLICY.items()), settings.XERO_LOGIN_URL)


@cache
def _policy(directives: tuple[tuple[str, str], ...], xero_login_url: str) -> str:
    # "Authorise API" posts here and is redirected to Xero's login, and
    # form-action also governs where a form's redirects may go.
    xero = urlsplit(xero_login_url)
    policy = dict(directives)
    policy["form-action"] += f" {xero.scheme}://{xero.netloc}"
    return "; ".join(f"{name} {value}" for name, value in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Only documents a browser renders as a page run scripts; a PDF or a CSV
        # is handed to a viewer the policy is not written for.
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        # Django's debug error pages are inline styles and scripts throughout.
        if settings.DEBUG and response.status_code >= 400:
            return response
        response.setdefault("Content-Security-Policy", content_security_policy())
        return response
