"""Sign-in attempts per client address: at most ``MAX_ATTEMPTS`` in each ``WINDOW``.

The per-account lockout stops guessing one password; this stops one address trying a few
passwords on every account. Each attempt is counted before its password is checked, with one
atomic upsert (``INSERT … ON CONFLICT DO UPDATE … RETURNING``) on SQLite and PostgreSQL alike,
so a burst of parallel attempts cannot all read the same old count. A successful sign-in gives
its attempt back.

Behind a reverse proxy the address is the client's only if the proxy sets X-Forwarded-For and
uvicorn trusts it (FORWARDED_ALLOW_IPS; loopback proxies are trusted by default).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import LoginThrottle

MAX_ATTEMPTS = 30
WINDOW = timedelta(minutes=15)
_KEEP = timedelta(days=1)


async def count_attempt(session: AsyncSession, *, address: str, now: datetime) -> int:
    """Count one attempt from ``address``; the number of attempts in its window, this included."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    expired = LoginThrottle.window_start <= now - WINDOW
    statement = (
        dialect.insert(LoginThrottle)
        .values(address=address[:64], window_start=now, attempts=1)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.address],
            set_={
                "attempts": case((expired, 1), else_=LoginThrottle.attempts + 1),
                "window_start": case((expired, now), else_=LoginThrottle.window_start),
            },
        )
        .returning(LoginThrottle.attempts)
    )
    attempts = int(await session.scalar(statement) or 0)
    # Forget addresses quiet for a day, so the table stays small.
    await session.execute(delete(LoginThrottle).where(LoginThrottle.window_start < now - _KEEP))
    return attempts


async def give_back(session: AsyncSession, *, address: str) -> None:
    """A successful sign-in does not use up its address's allowance."""
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.address == address[:64])
        .values(attempts=case((LoginThrottle.attempts > 0, LoginThrottle.attempts - 1), else_=0))
        .execution_options(synchronize_session=False)
    )
