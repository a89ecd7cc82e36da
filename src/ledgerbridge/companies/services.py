"""Actions on companies, memberships, API tokens and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from ledgerbridge import validation
from ledgerbridge.errors import (
    ApplicationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from ledgerbridge.validation import country_code, currency_code, stored_text

from .models import ApiToken, AuditEntry, Company, Membership, Role, User
from .permissions import Actor, Permission, require

API_TOKEN_PREFIX = "lb_"


def audit_record(
    *,
    actor: Actor | None,
    company: Company | None,
    action: str,
    target: str = "",
    changes: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        company=company,
        actor=actor.user if actor else None,
        actor_label=actor.name if actor else "system",
        action=action,
        target=target[:200],
        changes=changes or {},
        at=now or timezone.now(),
    )


def company_create(*, by: User, legal_name: str, **fields: Any) -> Company:
    if not by.is_platform_staff:
        raise PermissionDeniedError("Only platform staff can create companies.")
    if not legal_name.strip():
        raise ApplicationError("Enter the company's legal name.", field="legal_name")
    with transaction.atomic():
        company = Company.objects.create(legal_name=legal_name.strip(), **fields)
        audit_record(
            actor=None,
            company=company,
            action="company created",
            target=company.legal_name,
            changes={"by": str(by)},
        )
    return company


NEW_COMPANY_FIELDS = (
    "legal_name",
    "vat_number",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "country",
    "base_currency",
    "email",
)


def company_create_with_super_admin(
    *,
    by: User,
    company: dict[str, Any],
    admin_username: str,
    admin_email: str,
    admin_password: str,
    admin_password_again: str | None = None,
    admin_first_name: str = "",
    admin_last_name: str = "",
) -> tuple[Company, User]:
    """Platform staff open a company with its first Super Admin, who then sets it up.

    Every input at fault is reported at once. The password is checked by the
    password validators (against the new user's name and email too) and only its
    hash is stored; it is never shown or logged.
    """
    if not by.is_platform_staff:
        raise PermissionDeniedError("Only platform staff can create companies.")
    unknown = set(company) - set(NEW_COMPANY_FIELDS)
    if unknown:
        raise ValueError(f"Not a field of a new company: {sorted(unknown)}")
    errors: list[ApplicationError] = []
    fields: dict[str, Any] = {}
    for name, value in {"legal_name": "", **company}.items():
        try:
            text = str(value or "").strip()
            if name not in ("country", "base_currency"):  # codes, checked as such
                model_field = Company._meta.get_field(name)
                text = stored_text(
                    text,
                    field=name,
                    label=str(getattr(model_field, "verbose_name", name)).capitalize(),
                    max_length=getattr(model_field, "max_length", None),
                )
            if name == "email" and text:
                _email(text, message="Enter a valid email address for the company.", field=name)
            fields.update(_company_clean({name: text}))
        except ApplicationError as error:
            errors.append(error)
    username = admin_username.strip()
    if not username:
        errors.append(ApplicationError("Enter the Super Admin's username.", field="admin_username"))
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            errors.append(
                ApplicationError(
                    "A username holds only letters, digits and @ . + - _ (no spaces).",
                    field="admin_username",
                )
            )
        if len(username) > 150:
            errors.append(
                ApplicationError("A username is at most 150 characters.", field="admin_username")
            )
        elif User.objects.filter(username__iexact=username).exists():
            errors.append(
                ApplicationError(
                    f"The username {username!r} is taken; choose another.", field="admin_username"
                )
            )
    email = admin_email.strip()
    try:
        _email(
            email,
            message="Enter the Super Admin's email address, such as name@example.com.",
            field="admin_email",
        )
    except ApplicationError as error:
        errors.append(error)
    user = User(
        username=username,
        email=email,
        first_name=admin_first_name.strip()[:150],
        last_name=admin_last_name.strip()[:150],
    )
    try:
        validate_password(admin_password, user=user)
    except ValidationError as error:
        errors.append(ApplicationError(" ".join(error.messages), field="admin_password"))
    if admin_password_again is not None and admin_password_again != admin_password:
        errors.append(
            ApplicationError(
                "The two passwords differ; type the same one twice.", field="admin_password_again"
            )
        )
    if errors:
        raise InvalidInputError(errors)
    legal_name = fields.pop("legal_name")
    with transaction.atomic():
        created = company_create(by=by, legal_name=legal_name, **fields)
        user.set_password(admin_password)
        user.save()
        membership_set(
            actor=Actor(company=created, role="", user=by, is_platform_staff=True),
            user=user,
            role=Role.SUPER_ADMIN,
        )
    return created, user


def _email(value: str, *, message: str, field: str) -> None:
    try:
        validate_email(value)
    except ValidationError:
        raise ApplicationError(message, field=field) from None


def _company_clean(fields: dict[str, Any]) -> dict[str, Any]:
    clean = dict(fields)
    if "legal_name" in clean:
        clean["legal_name"] = str(clean["legal_name"] or "").strip()
        if not clean["legal_name"]:
            raise ApplicationError("Enter the company's legal name.", field="legal_name")
    if "country" in clean:
        clean["country"] = country_code(clean["country"])
    if "base_currency" in clean:
        clean["base_currency"] = currency_code(
            clean["base_currency"], field="base_currency", label="Base currency"
        )
    for name, check in (
        ("bank_sort_code", validation.sort_code),
        ("bank_account_number", validation.account_number),
        ("bank_iban", validation.iban),
        ("bank_bic", validation.bic),
    ):
        if name in clean:
            clean[name] = check(clean[name])
    for name, label in (
        ("bank_account_name", "Account name"),
        ("bank_name", "Bank"),
        ("payment_terms", "Payment terms"),
    ):
        if name in clean:
            clean[name] = validation.stored_text(
                str(clean[name] or "").strip(),
                field=name,
                label=label,
                max_length=getattr(Company._meta.get_field(name), "max_length", None),
            )
    return clean


def _bank_details_check(company: Company) -> None:
    """Bank details that a customer could pay to: each part with the one it needs."""
    if bool(company.bank_sort_code) != bool(company.bank_account_number):
        missing = "bank_account_number" if company.bank_sort_code else "bank_sort_code"
        raise ApplicationError(
            "A sort code and an account number go together: enter both, or neither.",
            field=missing,
        )
    if company.bank_bic and not company.bank_iban:
        raise ApplicationError("A BIC goes with an IBAN: enter the IBAN too.", field="bank_iban")
    if company.has_bank_details and not company.bank_account_name:
        raise ApplicationError(
            "Enter the name the bank account is held in, for customers' payments.",
            field="bank_account_name",
        )


def company_update(*, actor: Actor, **fields: Any) -> Company:
    require(actor, Permission.CONFIGURE)
    company = actor.company
    changes: dict[str, Any] = {}
    for name, value in _company_clean(fields).items():
        old = getattr(company, name)
        if old != value:
            # Binary fields (the logo) are audited as changed, not copied into the log.
            changes[name] = (
                "changed" if isinstance(value, bytes | memoryview) else [str(old), str(value)]
            )
            setattr(company, name, value)
    _bank_details_check(company)
    if changes:
        with transaction.atomic():
            company.save()
            audit_record(
                actor=actor,
                company=company,
                action="company details changed",
                target=company.legal_name,
                changes=changes,
            )
    return company


def membership_set(*, actor: Actor, user: User, role: str) -> Membership:
    """Give ``user`` a role in the actor's company (or change it)."""
    require(actor, Permission.CONFIGURE)
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", field="role")
    with transaction.atomic():
        membership, created = Membership.objects.update_or_create(
            user=user, company=actor.company, defaults={"role": role}
        )
        audit_record(
            actor=actor,
            company=actor.company,
            action="member added" if created else "member role changed",
            target=user.username,
            changes={"role": role},
        )
    return membership


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, actor: Actor, name: str, role: str = Role.FINANCE) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    require(actor, Permission.CONFIGURE)
    if not name.strip():
        raise ApplicationError("Give the token a name, e.g. the script that uses it.", field="name")
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            company=actor.company,
            name=name.strip(),
            role=role,
            prefix=raw[:10],
            token_hash=_hash_token(raw),
            created_by=actor.user,
        )
        audit_record(
            actor=actor, company=actor.company, action="API token created", target=token.name
        )
    return token, raw


def api_token_authenticate(*, raw: str, now: datetime | None = None) -> Actor | None:
    token = (
        ApiToken.objects.select_related("company")
        .filter(token_hash=_hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now or timezone.now())
    return Actor(company=token.company, role=token.role, label=f"API token {token.name}")


def api_token_revoke(*, actor: Actor, token_id: int, now: datetime | None = None) -> None:
    require(actor, Permission.CONFIGURE)
    token = ApiToken.objects.filter(company=actor.company, pk=token_id).first()
    if token is None:
        raise NotFoundError("No such API token in this company.")
    token.revoked_at = now or timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=actor, company=actor.company, action="API token revoked", target=token.name)


LOGO_MAX_BYTES = 512 * 1024
_LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def company_logo_set(*, actor: Actor, content: bytes | None) -> Company:
    """Set (PNG or JPEG, at most 512 KB) or remove (None) the logo printed on documents."""
    require(actor, Permission.CONFIGURE)
    company = actor.company
    if content is None:
        company.logo, company.logo_content_type = None, ""
        action = "company logo removed"
    else:
        if len(content) > LOGO_MAX_BYTES:
            raise ApplicationError("The logo must be at most 512 KB.", field="logo")
        content_type = next(
            (kind for magic, kind in _LOGO_SIGNATURES.items() if content.startswith(magic)), None
        )
        if content_type is None:
            raise ApplicationError("The logo must be a PNG or JPEG image.", field="logo")
        company.logo, company.logo_content_type = content, content_type
        action = "company logo changed"
    with transaction.atomic():
        company.save(update_fields=["logo", "logo_content_type"])
        audit_record(actor=actor, company=company, action=action, target=company.legal_name)
    return company
