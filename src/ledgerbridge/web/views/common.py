"""What every page view shares: login, the current actor, and turning
application errors into the right response (404, 403 page, form errors)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.errors import ApplicationError, NotFoundError, PermissionDeniedError
from ledgerbridge.paging import IdFirst, count_limit

PAGE_SIZE = 50

View = Callable[..., HttpResponse]


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/403.html", {"message": message}, status=403)


def actor_view(permission: Permission | None = None) -> Callable[[View], View]:
    """Decorate a view taking ``(request, actor, ...)``.

    The user must be logged in and belong to a company. ``permission``, when
    given, is checked before the view runs (the services check again). A
    ``NotFoundError`` becomes a 404 and a ``PermissionDeniedError`` a 403 page
    with its message, whichever service or selector raised it.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            actor: Actor | None = getattr(request, "actor", None)
            if actor is None:
                return render(request, "web/no_company.html", status=403)
            if permission is not None and not actor.can(permission):
                return forbidden(request, denied_message(actor, permission))
            try:
                return view(request, actor, *args, **kwargs)
            except NotFoundError as exc:
                raise Http404(exc.message) from exc
            except PermissionDeniedError as exc:
                return forbidden(request, exc.message)

        return wrapper

    return decorate


def denied_message(actor: Actor, permission: Permission) -> str:
    return (
        f"Your role ({actor.role_label or 'none'}) in {actor.company} may not "
        f"{permission.value}. Ask a Super Admin of the company."
    )


def apply_error(form: Any, error: ApplicationError) -> None:
    """Show a service error next to the form field it names, else above the form."""
    if isinstance(error, PermissionDeniedError | NotFoundError):
        raise error
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def paginate(request: HttpRequest, items: Any) -> Page:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def paginate_ids_first(
    request: HttpRequest, items: QuerySet[Any], *, count_cap: int | None = None
) -> Page:
    """``paginate`` reading the page's ids before its rows (see ``ledgerbridge.paging``).

    ``count_cap`` counts at most up to the next multiple of it past the asked
    page, so Next always leads on while the count stays bounded.
    """
    limit = None
    if count_cap:
        page = max(int_or_none(request.GET.get("page")) or 1, 1)
        limit = count_limit(offset=(page - 1) * PAGE_SIZE, page_size=PAGE_SIZE, cap=count_cap)
    return Paginator(IdFirst(items, count_limit=limit), PAGE_SIZE).get_page(request.GET.get("page"))


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def redirect_back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to the form's ``next`` page if it is one of ours, else to ``default``.

    A ``next`` pointing at another site is ignored: forms must not become open
    redirects.
    """
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)
