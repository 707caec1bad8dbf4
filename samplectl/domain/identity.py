"""Who is acting, and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass

from samplectl.domain.errors import PermissionDenied

ROLE_RANK = {"viewer": 0, "technician": 1, "admin": 2}


@dataclass(frozen=True)
class Identity:
    username: str
    role: str

    def require(self, role: str, action: str) -> None:
        """Refuse (exit 4) unless this identity holds ``role`` or a higher one."""
        if ROLE_RANK.get(self.role, -1) < ROLE_RANK[role]:
            # An admin-only action is done by an admin; a role change is for people whose work needs it.
            hint = ("ask a lab admin to do it" if role == "admin"
                    else f"if your work needs it, a lab admin can give you the {role} role")
            raise PermissionDenied(f"{action} needs the {role} role; {self.username} is {self.role}", hint=hint)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
