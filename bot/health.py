"""Is milchak able to serve? The readiness of each part, for /readyz, the metrics and the alerts.

Parts and their rules:

- database: ``SELECT 1`` answers within a few seconds;
- rasa: every supervised Rasa process answers its health probe (with ``--no-rasa``: the Rasa
  at ``MILCHAK_RASA_URL`` has a model loaded);
- outbox: no message has waited longer than ``MILCHAK_OUTBOX_MAX_AGE_SECONDS``;
- telegram: the Application runs and, when polling, the polling loop is alive (it ends for good
  on an invalid token while ``updater.running`` stays true). Absent in the terminal chat.

/healthz is liveness only: it answers while the process's event loop does.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse
from telegram.ext import Application

from bot import clock, metrics
from bot.clock import as_utc
from bot.config import Settings
from bot.db.models import OutboxMessage
from bot.rasa_client import RasaClient
from bot.services.outbox import PENDING, SENDING
from bot.supervisor import RasaSupervisor

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0  # seconds for each part's check: a probe must not hang with what it probes
# The name python-telegram-bot gives the task that long-polls getUpdates.
POLLING_TASK = "Updater:start_polling:polling_task"


@dataclass(frozen=True)
class Part:
    """One part's state: ``ok`` and what an operator needs to see why."""

    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.detail}


@dataclass(frozen=True)
class OutboxStats:
    depth: int
    oldest_seconds: float  # 0 when nothing waits


@dataclass(frozen=True)
class Readiness:
    parts: dict[str, Part]

    @property
    def ready(self) -> bool:
        return all(part.ok for part in self.parts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "parts": {name: part.as_json() for name, part in self.parts.items()},
        }


def outbox_part(stats: OutboxStats | None, max_age: float) -> Part:
    """Ready while the oldest waiting message is younger than ``max_age`` seconds."""
    if stats is None:
        return Part(False, {"error": "database unreachable"})
    return Part(
        stats.oldest_seconds <= max_age,
        {
            "depth": stats.depth,
            "oldest_pending_seconds": round(stats.oldest_seconds, 1),
            "max_age_seconds": max_age,
        },
    )


def rasa_part(instances: list[dict[str, Any]]) -> Part:
    """Ready when there is a Rasa and every instance is up."""
    return Part(
        bool(instances) and all(i["state"] == "up" for i in instances), {"instances": instances}
    )


def telegram_part(
    *, webhook: bool, application_running: bool, updater_running: bool, polling_alive: bool
) -> Part:
    """Webhook mode needs the Application running (it handles /telegram); polling also needs
    the updater and its polling loop."""
    if webhook:
        return Part(application_running, {"mode": "webhook", "running": application_running})
    ok = application_running and updater_running and polling_alive
    return Part(
        ok,
        {
            "mode": "polling",
            "running": application_running and updater_running,
            "polling_loop_alive": polling_alive,
        },
    )


async def probe_rasa(url: str, token: SecretStr | None = None) -> bool:
    """Whether the Rasa at ``url`` answers, with a model loaded, within ``CHECK_TIMEOUT``.

    Rasa's ``/status`` sits behind its ``--auth-token`` like the rest of its API.
    """
    client = RasaClient(
        url, timeout=CHECK_TIMEOUT, token=token.get_secret_value() if token else None
    )
    try:
        return await client.is_ready()
    finally:
        await client.close()


def polling_loop_alive() -> bool:
    """Whether python-telegram-bot's getUpdates loop is still running in this event loop."""
    return any(task.get_name() == POLLING_TASK for task in asyncio.all_tasks())


class Health:
    """Everything the checks look at; the runner adds its Rasa supervisors as it starts them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        telegram: Application | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.telegram = telegram
        # Without supervisors (``--no-rasa``, tests) the Rasa at MILCHAK_RASA_URL is asked.
        self.supervisors: list[RasaSupervisor] = []

    async def check_database(self) -> Part:
        try:
            async with self.sessions() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), CHECK_TIMEOUT)
        except Exception as error:
            return Part(False, {"error": f"{type(error).__name__}: {error}"[:200]})
        return Part(True)

    async def outbox_stats(self) -> OutboxStats | None:
        """Depth and oldest age of the outbox, or None when the database does not answer."""
        query = select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status.in_((PENDING, SENDING))
        )
        try:
            async with self.sessions() as session:
                row = (await asyncio.wait_for(session.execute(query), CHECK_TIMEOUT)).one()
        except Exception:
            log.warning("could not read the outbox's state", exc_info=True)
            return None
        depth, oldest = int(row[0]), row[1]
        age = 0.0 if oldest is None else (clock.now() - as_utc(oldest)).total_seconds()
        return OutboxStats(depth, max(age, 0.0))

    async def refresh_outbox_gauges(self) -> OutboxStats | None:
        stats = await self.outbox_stats()
        if stats is not None:
            metrics.OUTBOX_DEPTH.set(stats.depth)
            metrics.OUTBOX_OLDEST_SECONDS.set(stats.oldest_seconds)
        return stats

    async def check_rasa(self) -> Part:
        if self.supervisors:
            return rasa_part([s.snapshot() for s in self.supervisors])
        urls = self.settings.rasa_replica_urls
        ups = await asyncio.gather(*(probe_rasa(url, self.settings.rasa_token) for url in urls))
        return rasa_part(
            [
                {"name": "rasa", "url": url, "state": _up(up)}
                for url, up in zip(urls, ups, strict=True)
            ]
        )

    def check_telegram(self) -> Part | None:
        application = self.telegram
        if application is None:
            return None  # terminal chat or web only: no Telegram to be ready for
        updater = application.updater
        return telegram_part(
            webhook=self.settings.telegram_webhook_url is not None,
            application_running=application.running,
            updater_running=updater is not None and updater.running,
            polling_alive=polling_loop_alive(),
        )

    async def readiness(self) -> Readiness:
        """Check every part (concurrently) and update the ``milchak_ready`` gauges."""
        database, rasa, stats = await asyncio.gather(
            self.check_database(), self.check_rasa(), self.refresh_outbox_gauges()
        )
        parts = {
            "database": database,
            "rasa": rasa,
            "outbox": outbox_part(stats, self.settings.outbox_max_age_seconds),
        }
        telegram = self.check_telegram()
        if telegram is not None:
            parts["telegram"] = telegram
        for name, part in parts.items():
            metrics.READY.labels(name).set(1 if part.ok else 0)
        return Readiness(parts)


def _up(ok: bool) -> str:
    return "up" if ok else "down"


async def readyz(request: Request) -> JSONResponse:
    """Readiness: each part's state; 503 unless every part is ready."""
    health: Health = request.app.state.health
    readiness = await health.readiness()
    return JSONResponse(readiness.as_json(), status_code=200 if readiness.ready else 503)
