"""The site's page for an address opened with the wrong method (405).

A button's address (``require_POST``: finalise, confirm, retry) opened directly,
from a bookmark or the history, answered Django's empty 405, a blank page. A
person gets the site's error page instead, in words, with a way back to the page
the button is on; the REST API keeps its own answers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme


def back_address(request: HttpRequest) -> str:
    """The page to go back to: the one the person came from if it is ours, else the
    page the button's address belongs to (``/invoices/12/finalise`` →
    ``/invoices/12/``) if there is one, else the invoices."""
    came_from = request.headers.get("Referer", "")
    if came_from and url_has_allowed_host_and_scheme(
        came_from, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return came_from
    parent = request.path.rstrip("/").rsplit("/", 1)[0]
    for page in (parent, f"{parent}/") if parent else ():
        try:
            resolve(page)
        except Resolver404:
            continue
        return page
    return "/"


class MethodNotAllowedPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            isinstance(response, HttpResponseNotAllowed)
            and not response.content
            and not request.path.startswith("/api/")
        ):
            page = render(request, "405.html", {"back": back_address(request)}, status=405)
            page["Allow"] = response["Allow"]
            return page
        return response
