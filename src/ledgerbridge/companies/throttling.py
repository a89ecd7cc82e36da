"""Login throttling: django-axes, for logins that come through a web request.

API tokens are not throttled: each is ``lb_`` + 32 random bytes (256 bits),
looked up by its SHA-256, so guessing one is hopeless at any request rate;
a failed guess costs one indexed lookup and gets 401.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check, skipped when there is no request to throttle.

    Django's own ``authenticate`` without a request (scripts, the test
    client's ``login``) comes from no address an attacker could use; axes
    would refuse it outright.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
