"""Console sessions: who is signed in, CSRF tokens, and role checks.

The session cookie (Starlette's SessionMiddleware, signed with itsdangerous) holds only the
token of a server-side session (``bot.services.admin_sessions``) and the CSRF token; the
session and its user are read from the database on every request, so signing out or a
password change ends a session everywhere at once.
"""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from bot import clock
from bot.admin.principal import Principal
from bot.services import admin_sessions

CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """Raised when a page needs a signed-in user; the app redirects to the sign-in page."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> FormData:
    """Read the posted form and refuse it unless it carries the session's CSRF token."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise HTTPException(status_code=403, detail="csrf")
    return form


def start_session(request: Request, token: str) -> None:
    """Put a new server-side session's token in a fresh cookie (new CSRF token: no fixation)."""
    request.session.clear()
    request.session["sid"] = token
    request.session["csrf"] = secrets.token_urlsafe(32)


async def end_session(request: Request, session: AsyncSession) -> None:
    """Sign out: delete the server-side session, so a copy of the cookie stops working too."""
    token = request.session.get("sid")
    if isinstance(token, str):
        await admin_sessions.end_session(session, token)
    request.session.clear()


async def current_principal(request: Request, session: AsyncSession) -> Principal:
    """The signed-in user, or :class:`SignInRequired`."""
    token = request.session.get("sid")
    if not isinstance(token, str):
        raise SignInRequired
    user = await admin_sessions.user_of_session(session, token, now=clock.now())
    if user is None:
        request.session.clear()
        raise SignInRequired
    return Principal(
        id=user.id, username=user.username, role=user.role, department_id=user.department_id
    )


def require_role(principal: Principal, *roles: str) -> None:
    """Refuse with 403 unless the user has one of ``roles``."""
    if principal.role not in roles:
        raise HTTPException(status_code=403, detail="role")
