"""Console sessions: who is signed in, CSRF tokens, and role checks.

The session cookie (Starlette's SessionMiddleware, signed with itsdangerous) holds only the
user id, a fingerprint of the password hash (so a password change ends old sessions) and the
CSRF token; the user is read from the database on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from bot.admin.principal import Principal
from bot.db.models import AdminUser

CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """Raised when a page needs a signed-in user; the app redirects to the sign-in page."""


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


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


def start_session(request: Request, user: AdminUser) -> None:
    """Begin a fresh session for ``user`` (a new CSRF token too: no session fixation)."""
    request.session.clear()
    request.session["uid"] = user.id
    request.session["pw"] = _fingerprint(user.password_hash)
    request.session["csrf"] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    request.session.clear()


async def current_principal(request: Request, session: AsyncSession) -> Principal:
    """The signed-in user, or :class:`SignInRequired`."""
    user_id = request.session.get("uid")
    if not isinstance(user_id, int):
        raise SignInRequired
    user = await session.get(AdminUser, user_id)
    if user is None or request.session.get("pw") != _fingerprint(user.password_hash):
        request.session.clear()
        raise SignInRequired
    return Principal(
        id=user.id, username=user.username, role=user.role, department_id=user.department_id
    )


def require_role(principal: Principal, *roles: str) -> None:
    """Refuse with 403 unless the user has one of ``roles``."""
    if principal.role not in roles:
        raise HTTPException(status_code=403, detail="role")
