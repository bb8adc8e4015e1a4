"""Who is using the console and what they may see: roles and department scope."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The signed-in console user, loaded from the database on every request."""

    id: int
    username: str
    role: str  # admin|head|auditor
    department_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_head(self) -> bool:
        return self.role == "head"

    @property
    def is_auditor(self) -> bool:
        return self.role == "auditor"

    @property
    def can_write(self) -> bool:
        """Auditors only read; heads and admins may change things (labels)."""
        return self.role == "admin"

    @property
    def masks_personal_data(self) -> bool:
        return self.role == "auditor"

    @property
    def scope_department_id(self) -> int | None:
        """The only department this user may see, or None for all of them.

        A head without a department sees nothing rather than everything: -1 matches no row.
        """
        if self.role == "head":
            return self.department_id if self.department_id is not None else -1
        return None
