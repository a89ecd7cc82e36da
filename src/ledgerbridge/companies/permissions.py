"""Who may do what. Services call ``require``; views only decide what to show."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ledgerbridge.errors import PermissionDeniedError

from .models import Company, Role, User


class Permission(enum.Enum):
    VIEW = "view"
    WORK_DOCUMENTS = "work documents"
    CONFIGURE = "change the company's configuration"


_ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW}),
    Role.FINANCE: frozenset({Permission.VIEW, Permission.WORK_DOCUMENTS}),
    Role.SUPER_ADMIN: frozenset({Permission.VIEW, Permission.WORK_DOCUMENTS, Permission.CONFIGURE}),
}


@dataclass(frozen=True)
class Actor:
    """Someone acting in one company: a logged-in user or an API token."""

    company: Company
    role: str
    user: User | None = None
    is_platform_staff: bool = False
    label: str = ""

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return str(self.user) if self.user else "system"

    def can(self, permission: Permission) -> bool:
        if self.is_platform_staff:
            return True
        return permission in _ROLE_PERMISSIONS.get(self.role, frozenset())

    @property
    def role_label(self) -> str:
        if self.is_platform_staff and not self.role:
            return "Platform staff"
        return Role(self.role).label if self.role else ""


def require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise PermissionDeniedError(
            f"Your role ({actor.role_label or 'none'}) in {actor.company} may not "
            f"{permission.value}. Ask a Super Admin of the company."
        )
