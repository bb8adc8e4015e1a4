"""Sign-in and sign-out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.admin import audit
from bot.admin.auth import check_csrf, end_session, start_session
from bot.admin.principal import Principal
from bot.admin.routes.common import db, render
from bot.services.admin_users import LoginOutcome, authenticate


def _safe_next(request: Request, target: str | None) -> str:
    """Only ever go back to a page of this console (no open redirect)."""
    base = request.scope.get("root_path", "")
    if target and target.startswith(base + "/") and not target.startswith("//"):
        return target
    return base + "/"


async def login_form(request: Request) -> Response:
    """Show the sign-in form."""
    return render(
        request,
        "login.html",
        {"next": _safe_next(request, request.query_params.get("next")), "error": None},
        principal=None,
    )


async def login_submit(request: Request) -> Response:
    """Check the password; count failures and lock the account after too many."""
    form = await check_csrf(request)
    username = str(form.get("username", ""))[:50]
    password = str(form.get("password", ""))[:200]
    target = _safe_next(request, str(form.get("next", "")))
    async with db(request) as session:
        result = await authenticate(session, username=username, password=password)
        user = result.user
        if result.outcome is LoginOutcome.OK and user is not None:
            principal = Principal(user.id, user.username, user.role, user.department_id)
            audit.record(session, principal, "login", f"admin_user:{user.id}")
            start_session(request, user)
            return RedirectResponse(target, status_code=303)
        audit.record(session, None, "login_failed", "", f"{username}: {result.outcome}")
    error = "locked" if result.outcome is LoginOutcome.LOCKED else "bad"
    return render(
        request,
        "login.html",
        {"next": target, "error": error, "username": username},
        principal=None,
        status_code=429 if error == "locked" else 401,
    )


async def logout(request: Request) -> Response:
    """End the session (POST with the CSRF token, so another site cannot sign you out)."""
    await check_csrf(request)
    end_session(request)
    return RedirectResponse(request.scope.get("root_path", "") + "/login", status_code=303)
