"""The web side: health check, Rasa action endpoint and admin console, as one Starlette app."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from telegram.ext import Application

from bot.actions.server import action_health, action_webhook
from bot.admin import create_admin_app
from bot.config import Settings
from bot.health import Health, readyz
from bot.services.sla import Deadlines
from bot.telegram.webhook import WEBHOOK_PATH, telegram_webhook


async def healthz(_request: Request) -> JSONResponse:
    """Liveness: the process answers (readiness, part by part, is /readyz)."""
    return JSONResponse({"status": "ok"})


def create_web_app(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    telegram: Application | None = None,
    health: Health | None = None,
) -> Starlette:
    """Build the Starlette app that serves /healthz, /readyz, /actions/webhook and /admin, and
    /telegram when ``telegram`` is given and a webhook URL is configured."""
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/actions/webhook", action_webhook, methods=["POST"]),
        Route("/actions/health", action_health),
        Mount("/admin", app=create_admin_app(sessions, settings)),
    ]
    if telegram is not None and settings.telegram_webhook_url is not None:
        routes.append(Route(WEBHOOK_PATH, telegram_webhook, methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.sessions = sessions
    # The actions open requests: their deadlines come from these settings, like the sessions.
    app.state.deadlines = Deadlines.from_settings(settings)
    app.state.settings = settings
    app.state.telegram_application = telegram
    app.state.health = health or Health(sessions, settings, telegram=telegram)
    return app
