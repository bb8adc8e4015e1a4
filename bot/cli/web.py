"""``milchak web``: the web side alone (admin console, health check), no Telegram or Rasa."""

from __future__ import annotations

import click
import uvicorn

from bot import event_loop
from bot.config import get_settings
from bot.db import create_engine_and_sessions
from bot.web import create_web_app


@click.command("web")
@click.option("--host", default=None, help="기본: MILCHAK_WEB_HOST (127.0.0.1)")
@click.option("--port", type=int, default=None, help="기본: MILCHAK_WEB_PORT (8000)")
def web(host: str | None, port: int | None) -> None:
    """Serve the admin console and /healthz on the configured address."""
    settings = get_settings()

    async def _serve() -> None:
        engine, sessions = create_engine_and_sessions(settings.database_url)
        app = create_web_app(sessions, settings)
        config = uvicorn.Config(
            app,
            host=host or settings.web_host,
            port=port or settings.web_port,
            log_level="info",
            proxy_headers=False,
        )
        try:
            await uvicorn.Server(config).serve()
        finally:
            await engine.dispose()

    event_loop.run(_serve())
