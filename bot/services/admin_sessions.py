"""Console sessions kept in the database, so they can be ended on the server.

The cookie carries a random token; the ``admin_sessions`` row holds its SHA-256 and an expiry.
Signing out deletes the row, changing a password deletes all of that user's rows: a copied
cookie is worthless from that moment, not eight hours later.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AdminSession, AdminUser

SESSION_LIFETIME = timedelta(hours=8)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(session: AsyncSession, *, user_id: int, now: datetime) -> str:
    """Start a session for ``user_id``; the token for the cookie (stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    session.add(
        AdminSession(
            token_hash=_hash(token),
            admin_user_id=user_id,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    # Expired sessions of anyone are dropped here rather than by a separate job.
    await session.execute(delete(AdminSession).where(AdminSession.expires_at <= now))
    await session.flush()
    return token


async def user_of_session(session: AsyncSession, token: str, *, now: datetime) -> AdminUser | None:
    """The user a live session token belongs to, or None (unknown, ended or expired)."""
    return await session.scalar(
        select(AdminUser)
        .join(AdminSession, AdminSession.admin_user_id == AdminUser.id)
        .where(AdminSession.token_hash == _hash(token), AdminSession.expires_at > now)
    )


async def end_session(session: AsyncSession, token: str) -> None:
    """Sign out: the token stops working everywhere."""
    await session.execute(delete(AdminSession).where(AdminSession.token_hash == _hash(token)))


async def end_all_sessions(session: AsyncSession, *, user_id: int) -> None:
    """End every session of a user (password change)."""
    await session.execute(delete(AdminSession).where(AdminSession.admin_user_id == user_id))
