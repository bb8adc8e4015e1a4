"""The whole milchak stack for end-to-end tests: a real Rasa process with the trained model,
the real app (web side, Telegram Application, workers) and a fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.config import Settings
from bot.db import create_engine_and_sessions
from bot.rasa_client import RasaClient
from bot.runner import (
    MODEL,
    start_rasa,
    start_telegram,
    stop_process,
    stop_telegram,
    wait_for_rasa,
    web_server,
)
from bot.services.escalation import run_escalation_worker
from bot.services.outbox import run_outbox_worker
from bot.services.sla import Deadlines
from bot.telegram.app import build_application
from bot.telegram.sender import telegram_sender
from tests.auxil.databases import copy_sqlite, demo_seeded_for, template
from tests.auxil.fake_telegram import FakeTelegram

WEBHOOK_SECRET = "e2e_webhook-Secret-42"
# Shared by the test Rasa and the test app, as `make setup` shares them through .env.
ACTION_TOKEN = "e2e-action-token-0123456789abcdef"
RASA_TOKEN = "e2e-rasa-token-0123456789abcdef"
# A model load takes ~40 s on an idle machine; on a shared one under load 9 it took over 240 s.
RASA_LOAD_SECONDS = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> int:
    """A free port whose next ``count - 1`` ports are free too (Rasa replicas take them)."""
    while True:
        port = free_port()
        try:
            for offset in range(1, count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return port


@dataclass
class RasaServer:
    url: str
    port: int
    web_port: int  # where Rasa expects the app's action endpoint
    settings: Settings
    process: subprocess.Popen[bytes]
    log_file: Path
    tracker_db: Path  # Rasa's conversations, in the test's temporary directory

    async def wait_until_ready(self) -> None:
        client = RasaClient(self.url, token=RASA_TOKEN)
        try:
            await wait_for_rasa(client, self.process, limit_seconds=RASA_LOAD_SECONDS)
        finally:
            await client.close()

    async def restart(self) -> None:
        """Stop Rasa and start it again on the same port with the same tracker database."""
        stop_process(self.process)
        self.process = start_rasa(self.settings, port=self.port, log_file=self.log_file)
        await self.wait_until_ready()


@asynccontextmanager
async def rasa_server(
    tmp: Path, *, web_port: int | None = None, session_events: int | None = None
) -> AsyncIterator[RasaServer]:
    """Start `rasa run` on the trained model; the app must later serve actions on web_port
    (a free port unless given: several Rasa servers may call one app). ``session_events``
    overrides the setting ``rasa_session_events`` (when Rasa starts a new session)."""
    assert MODEL.exists(), f"{MODEL} is missing: `make test` trains it before the suite"
    port, web_port = free_port(), web_port or free_port()
    tracker_db = tmp / "rasa-trackers.db"
    settings = Settings(
        web_port=web_port,
        rasa_tracker_url=f"sqlite:///{tracker_db}",
        action_token=SecretStr(ACTION_TOKEN),
        rasa_token=SecretStr(RASA_TOKEN),
        **({} if session_events is None else {"rasa_session_events": session_events}),
    )
    log_file = tmp / "rasa.log"
    server = RasaServer(
        f"http://127.0.0.1:{port}",
        port,
        web_port,
        settings,
        start_rasa(settings, port=port, log_file=log_file),
        log_file,
        tracker_db,
    )
    try:
        await server.wait_until_ready()
        yield server
    finally:
        stop_process(server.process)


async def seeded_database(path: Path) -> tuple[str, async_sessionmaker[AsyncSession]]:
    """A SQLite file at ``path`` holding the demo seeded for today (copied from the session's
    template for the day when there is one)."""
    copy_sqlite(await template("sqlite", demo_seeded_for(clock.today())), path)
    url = f"sqlite+aiosqlite:///{path}"
    _, sessions = create_engine_and_sessions(url)
    return url, sessions


@dataclass
class Stack:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    telegram: FakeTelegram


@asynccontextmanager
async def app_stack(
    *,
    database_url: str,
    rasa_url: str,
    web_port: int,
    serve_web: bool = True,
    workers: bool = True,
    first_update_id: int = 1,
    webhook: bool = False,
    rasa_urls: list[str] | None = None,
    telegram_concurrency: int = 8,
    typing_after: float = 0.0,  # "typing…" on every message, so the fault tests meet it
) -> AsyncIterator[Stack]:
    """Run the app as `milchak run` does, against the fake Bot API (``rasa_urls``: several
    Rasa replicas, each policyholder on one).

    With ``webhook`` the app registers ``http://127.0.0.1:{web_port}/telegram`` with the fake,
    which then POSTs updates there instead of answering ``getUpdates``.
    """
    assert serve_web or not webhook, "webhook mode needs the web server"
    async with FakeTelegram(first_update_id=first_update_id) as telegram:
        webhook_settings: dict[str, object] = (
            {
                "telegram_webhook_url": f"http://127.0.0.1:{web_port}",
                "telegram_webhook_secret": SecretStr(WEBHOOK_SECRET),
            }
            if webhook
            else {}
        )
        settings = Settings(
            database_url=database_url,
            telegram_token=SecretStr(telegram.token),
            telegram_base_url=telegram.base_url,
            telegram_base_file_url=telegram.base_file_url,
            rasa_url=rasa_url,
            web_port=web_port,
            telegram_concurrency=telegram_concurrency,
            telegram_typing_after=typing_after,
            outbox_interval=0.2,
            escalation_interval=0.5,
            action_token=SecretStr(ACTION_TOKEN),
            rasa_token=SecretStr(RASA_TOKEN),
            **webhook_settings,  # type: ignore[arg-type]
        )
        engine, sessions = create_engine_and_sessions(database_url)
        rasa = RasaClient(rasa_urls or rasa_url, timeout=settings.rasa_timeout, token=RASA_TOKEN)
        stop = asyncio.Event()
        application = build_application(settings=settings, sessions=sessions, rasa=rasa)
        server = web_server(sessions, settings, telegram=application)
        web_task = asyncio.create_task(server.serve()) if serve_web else None
        async with application:
            if webhook:
                await start_telegram(application, settings)
            else:  # short long-polls so that stopping is quick
                await application.start()
                assert application.updater is not None
                await application.updater.start_polling(poll_interval=0.0, timeout=1)
            send = telegram_sender(application.bot)
            jobs = (
                [
                    asyncio.create_task(run_outbox_worker(sessions, send, interval=0.2, stop=stop)),
                    asyncio.create_task(
                        run_escalation_worker(
                            sessions,
                            deadlines=Deadlines.from_settings(settings),
                            interval=0.5,
                            stop=stop,
                        )
                    ),
                ]
                if workers
                else []
            )
            try:
                yield Stack(settings, sessions, telegram)
            finally:
                stop.set()
                await asyncio.gather(*jobs, return_exceptions=True)
                await stop_telegram(application, settings)
        if web_task is not None:
            server.should_exit = True
            await web_task
        await rasa.close()
        await engine.dispose()
