"""Sign-in and sign-out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot import clock
from bot.admin import audit
from bot.admin.auth import check_csrf, end_session, start_session
from bot.admin.principal import Principal
from bot.admin.routes.common import db, render
from bot.services.admin_sessions import open_session
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


def client_address(request: Request) -> str:
    """Who is signing in, for the per-address throttle (uvicorn resolves trusted proxies)."""
    return request.client.host if request.client else ""


async def login_submit(request: Request) -> Response:
    """Check the password; count failures, lock the account or throttle the address."""
    form = await check_csrf(request)
    username = str(form.get("username", ""))[:50]
    password = str(form.get("password", ""))[:200]
    target = _safe_next(request, str(form.get("next", "")))
    result = await authenticate(
        request.app.state.sessions,
        username=username,
        password=password,
        address=client_address(request),
    )
    user = result.user
    async with db(request) as session:
        if result.outcome is LoginOutcome.OK and user is not None:
            principal = Principal(user.id, user.username, user.role, user.department_id)
            audit.record(session, principal, "login", f"admin_user:{user.id}")
            token = await open_session(session, user_id=user.id, now=clock.now())
            start_session(request, token)
            return RedirectResponse(target, status_code=303)
        audit.record(session, None, "login_failed", "", f"{username}: {result.outcome}")
    error = {LoginOutcome.LOCKED: "locked", LoginOutcome.THROTTLED: "throttled"}.get(
        result.outcome, "bad"
    )
    return render(
        request,
        "login.html",
        {"next": target, "error": error, "username": username},
        principal=None,
        status_code=401 if error == "bad" else 429,
    )


async def logout(request: Request) -> Response:
    """End the session (POST with the CSRF token, so another site cannot sign you out)."""
    await check_csrf(request)
    async with db(request) as session:
        await end_session(request, session)
    return RedirectResponse(request.scope.get("root_path", "") + "/login", status_code=303)
