"""Login throttling: django-axes, for logins that come through a web request.

Two limits, both over the cool-off period:

- a username from one address: ``AXES_FAILURE_LIMIT`` failures lock it out (axes).
  The username is counted as typed but normalised (``FINANCE``, ``finance `` and
  ``finance`` are one), so changing its case gains no attempts;
- an address across usernames: ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures lock the
  address out, so spraying a password over many usernames is slowed as much. It
  is higher than the first because an office shares one address.

The address is the client's as the configured number of proxies in front of us
saw it (``LEDGERBRIDGE_PROXY_COUNT``): behind a TLS proxy every request comes
from the proxy, and a per-address limit on that would lock everybody out.

API tokens are not throttled: each is ``lb_`` + 32 random bytes (256 bits),
looked up by its SHA-256, so guessing one is hopeless at any request rate;
a failed guess costs one indexed lookup and gets 401.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def throttle_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The username a failure counts against: as typed, NFKC-normalised, stripped, casefolded."""
    # Where axes itself reads it (AXES_USERNAME_FORM_FIELD's default): the login form's field.
    typed = credentials.get("username") if credentials else request.POST.get("username")
    if not typed:
        return None
    return unicodedata.normalize("NFKC", str(typed)).strip().casefold()


def client_address(request: HttpRequest) -> str | None:
    """The address the outermost of our proxies saw the client connect from."""
    remote = request.META.get("REMOTE_ADDR")
    if settings.PROXY_COUNT <= 0:
        return remote
    # Each proxy appends the address it saw; only the last PROXY_COUNT entries are
    # ours, anything before them the client may have written itself.
    forwarded = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
    ]
    if len(forwarded) < settings.PROXY_COUNT:
        return remote
    return forwarded[-settings.PROXY_COUNT]


def address_failures(request: HttpRequest) -> int:
    """Failed logins from this request's address within the cool-off, any username."""
    total = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        attempt_time__gte=get_cool_off_threshold(request),
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return int(total or 0)


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check, then the per-address one; skipped when there is no request.

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
        super().authenticate(request, username=username, password=password, **kwargs)
        if address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            # The lockout page (AxesMiddleware) says why.
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.login_locked_out_address = True  # type: ignore[attr-defined]
            raise AxesBackendPermissionDenied("Too many failed logins from this address")
        return None
