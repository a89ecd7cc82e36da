"""Reads about companies and memberships."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ApiToken, AuditEntry, Company, Membership, User
from .permissions import Actor


def companies_for_user(*, user: User) -> QuerySet[Company]:
    if user.is_platform_staff:
        return Company.objects.all()
    return Company.objects.filter(memberships__user=user)


def actor_for(*, user: User, company_id: int | None) -> Actor | None:
    """The actor for ``user`` in the given company, or in their first company."""
    memberships = Membership.objects.select_related("company").filter(user=user)
    membership = None
    if company_id is not None:
        membership = memberships.filter(company_id=company_id).first()
        if membership is None and user.is_platform_staff:
            company = Company.objects.filter(pk=company_id).first()
            if company is not None:
                return Actor(company=company, role="", user=user, is_platform_staff=True)
    if membership is None:
        membership = memberships.order_by("company__legal_name").first()
    if membership is not None:
        return Actor(
            company=membership.company,
            role=membership.role,
            user=user,
            is_platform_staff=user.is_platform_staff,
        )
    if user.is_platform_staff:
        company = Company.objects.order_by("legal_name").first()
        if company is not None:
            return Actor(company=company, role="", user=user, is_platform_staff=True)
    return None


def audit_entries(*, actor: Actor) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(company=actor.company).select_related("actor")


def api_token_list(*, actor: Actor) -> QuerySet[ApiToken]:
    return (
        ApiToken.objects.filter(company=actor.company)
        .select_related("created_by")
        .order_by("revoked_at", "-created_at")
    )


def api_token_get(*, actor: Actor, token_id: int) -> ApiToken:
    from ledgerbridge.errors import NotFoundError

    token = ApiToken.objects.filter(company=actor.company, pk=token_id).first()
    if token is None:
        raise NotFoundError("No such API token.")
    return token
