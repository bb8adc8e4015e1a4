"""The audit log: who viewed or exported what, written in the same transaction as the page."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.admin.principal import Principal
from bot.db.models import AuditLog


def record(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    target: str = "",
    detail: str = "",
) -> None:
    """Add an audit row; the caller's commit stores it."""
    session.add(
        AuditLog(
            admin_user_id=principal.id if principal else None,
            action=action,
            target=target[:200],
            detail=detail,
            created_at=clock.now(),
        )
    )
