"""The web side: health check, Rasa action endpoint and admin console, as one Starlette app."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from bot.actions.server import action_health, action_webhook
from bot.admin import create_admin_app
from bot.config import Settings


async def healthz(_request: Request) -> JSONResponse:
    """Answer load balancers and `milchak run`'s readiness check."""
    return JSONResponse({"status": "ok"})


def create_web_app(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Starlette:
    """Build the Starlette app that serves /healthz, /actions/webhook and /admin."""
    routes = [
        Route("/healthz", healthz),
        Route("/actions/webhook", action_webhook, methods=["POST"]),
        Route("/actions/health", action_health),
        Mount("/admin", app=create_admin_app(sessions, settings)),
    ]
    app = Starlette(routes=routes)
    app.state.sessions = sessions
    app.state.settings = settings
    return app
