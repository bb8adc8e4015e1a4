"""The admin console as a Starlette app, mounted by ``bot.web`` at ``/admin``."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

import jinja2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.admin.auth import SignInRequired
from bot.admin.display import FILTERS
from bot.admin.routes import (
    auth,
    conversations,
    employees,
    outbox,
    persistency,
    reports,
    requests,
    review,
)
from bot.admin.routes.common import render
from bot.config import Settings

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "milchak_admin"
SESSION_MAX_AGE = 8 * 60 * 60
DEFAULT_SECRET = "change-me-in-production"
# Values people leave in place from examples (.env.example has "change-me").
PLACEHOLDER_SECRETS = frozenset({DEFAULT_SECRET, "change-me", "changeme", "secret", "dev", "test"})
MIN_SECRET_LENGTH = 32
log = logging.getLogger(__name__)

_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Add a strict CSP and friends to every console response (pure ASGI, streaming-safe)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + _SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return Jinja2Templates(env=env)


async def _sign_in_required(request: Request, _exc: Exception) -> Response:
    base = request.scope.get("root_path", "")
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"{base}/login?next={quote(target, safe='')}", status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    return render(
        request,
        "error.html",
        {"status": status, "detail": detail},
        principal=None,
        status_code=status,
    )


def weak_secret(secret: str) -> bool:
    """A session key an attacker could guess: an example's placeholder, or too short."""
    return secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH


def create_admin_app(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Starlette:
    """Build the console; ``sessions`` is the app's database, ``settings`` gives the secret."""
    secret = settings.secret_key.get_secret_value()
    if weak_secret(secret):
        log.warning(
            "MILCHAK_SECRET_KEY is a placeholder or shorter than %d characters: set a long "
            "random value in production (`make setup` writes one into .env)",
            MIN_SECRET_LENGTH,
        )
    routes = [
        Route("/", conversations.conversation_list, name="conversations"),
        Route("/conversations/{holder_id:int}", conversations.conversation_view),
        Route("/export/contacts.csv", conversations.export_contacts),
        Route("/requests", requests.request_board),
        Route("/requests/{request_id:int}", requests.request_view),
        Route("/reports/weekly", reports.weekly_page),
        Route("/employees", employees.employee_list),
        Route("/employees/{employee_id:int}", employees.employee_view),
        Route("/reports/weekly.csv", reports.weekly_csv),
        Route("/reports/persistency", persistency.persistency_page),
        Route("/reports/persistency.csv", persistency.persistency_csv),
        Route("/review", review.review_queue),
        Route("/review/{contact_id:int}/label", review.review_label, methods=["POST"]),
        Route("/review/nlu.yml", review.review_export),
        Route("/audit", review.audit_log),
        Route("/outbox", outbox.undelivered),
        Route("/outbox/{message_id:int}/requeue", outbox.requeue_message, methods=["POST"]),
        Route("/login", auth.login_form, methods=["GET"], name="login"),
        Route("/login", auth.login_submit, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE,
                path="/admin",
                same_site="strict",
                https_only=settings.admin_cookie_secure,
            ),
        ],
        exception_handlers={SignInRequired: _sign_in_required, HTTPException: _http_error},
    )
    app.state.sessions = sessions
    app.state.settings = settings
    app.state.templates = _templates()
    return app
