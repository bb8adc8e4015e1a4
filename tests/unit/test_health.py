"""Readiness rules, /readyz and /metrics: each part's state and who may read the metrics."""

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import InvalidToken
from telegram.ext import Application

from bot import clock
from bot.config import Settings
from bot.db.models import OutboxMessage
from bot.health import Health, OutboxStats, outbox_part, rasa_part, telegram_part
from bot.metrics import check_metrics_address, create_metrics_app
from bot.runner import stop_process
from bot.services.outbox import SENT
from bot.supervisor import RasaSupervisor
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import free_port
from tests.auxil.waiting import eventually

NOWHERE = f"http://127.0.0.1:{free_port()}"  # nothing listens: Rasa is down


def settings(db_url: str = "sqlite+aiosqlite:///:memory:", **values: object) -> Settings:
    return Settings(database_url=db_url, rasa_url=NOWHERE, **values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the rules


def test_outbox_is_ready_until_its_oldest_message_is_older_than_the_threshold() -> None:
    assert outbox_part(OutboxStats(depth=0, oldest_seconds=0.0), 300).ok
    assert outbox_part(OutboxStats(depth=40, oldest_seconds=299.0), 300).ok  # busy is not stuck
    stuck = outbox_part(OutboxStats(depth=1, oldest_seconds=301.0), 300)
    assert not stuck.ok
    assert stuck.as_json() == {
        "ok": False,
        "depth": 1,
        "oldest_pending_seconds": 301.0,
        "max_age_seconds": 300,
    }
    assert not outbox_part(None, 300).ok  # the database could not say


def test_rasa_is_ready_only_when_every_instance_is_up() -> None:
    assert rasa_part([{"state": "up"}, {"state": "up"}]).ok
    assert not rasa_part([{"state": "up"}, {"state": "starting"}]).ok
    assert not rasa_part([{"state": "down"}]).ok
    assert not rasa_part([]).ok


def test_telegram_polling_needs_its_loop_and_a_webhook_needs_the_application() -> None:
    alive = {"application_running": True, "updater_running": True, "polling_alive": True}
    assert telegram_part(webhook=False, **alive).ok
    assert not telegram_part(webhook=False, **{**alive, "polling_alive": False}).ok
    assert not telegram_part(webhook=False, **{**alive, "updater_running": False}).ok
    webhook = {"application_running": True, "updater_running": False, "polling_alive": False}
    assert telegram_part(webhook=True, **webhook).ok
    assert not telegram_part(webhook=True, **{**webhook, "application_running": False}).ok


# --------------------------------------------------------------------------- the checks


async def queue_outbox(
    sessions: async_sessionmaker[AsyncSession], *, age: timedelta, status: str = "pending"
) -> None:
    async with sessions() as session:
        session.add(
            OutboxMessage(
                chat_id=1,
                text="알림",
                status=status,
                created_at=clock.now() - age,
                next_attempt_at=clock.now(),
            )
        )
        await session.commit()


async def test_outbox_check_reads_depth_and_oldest_age(
    sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    health = Health(sessions, settings(db_url, outbox_max_age_seconds=300))
    assert await health.outbox_stats() == OutboxStats(0, 0.0)
    await queue_outbox(sessions, age=timedelta(hours=2), status=SENT)  # delivered: not waiting
    await queue_outbox(sessions, age=timedelta(seconds=30))
    stats = await health.outbox_stats()
    assert stats is not None and stats.depth == 1 and 29 < stats.oldest_seconds < 60
    assert outbox_part(stats, 300).ok
    await queue_outbox(sessions, age=timedelta(minutes=10), status="sending")
    stats = await health.outbox_stats()
    assert stats is not None and stats.depth == 2 and stats.oldest_seconds > 590
    assert not (await health.readiness()).parts["outbox"].ok


@pytest.fixture
async def up_rasa() -> AsyncIterator[RasaSupervisor]:
    """A supervised process whose probe answers: Rasa counts as up."""
    process = subprocess.Popen(  # noqa: ASYNC220 (starts at once; nothing to wait for)
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )

    async def answers() -> bool:
        return True

    supervisor = RasaSupervisor(
        name="t-ready",
        port=5999,
        start=lambda: process,
        terminate=stop_process,
        probe=answers,
        process=process,
    )
    yield supervisor
    stop_process(process, grace=2)


async def readyz(health: Health) -> httpx.Response:
    from bot.web import create_web_app

    app = create_web_app(health.sessions, health.settings, health=health)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.get("/readyz")


async def test_readyz_is_503_with_the_failing_part_and_200_when_all_parts_are_ready(
    sessions: async_sessionmaker[AsyncSession], db_url: str, up_rasa: RasaSupervisor
) -> None:
    health = Health(sessions, settings(db_url))
    down = await readyz(health)
    assert down.status_code == 503
    body = down.json()
    assert body["status"] == "not ready"
    assert body["parts"]["rasa"]["ok"] is False
    assert body["parts"]["rasa"]["instances"][0]["state"] == "down"
    assert body["parts"]["database"] == {"ok": True}
    assert body["parts"]["outbox"]["ok"] is True
    assert "telegram" not in body["parts"]  # no Telegram in this process

    health.supervisors.append(up_rasa)
    ready = await readyz(health)
    assert ready.status_code == 200, ready.json()
    assert ready.json()["parts"]["rasa"]["instances"][0]["pid"] == up_rasa.process.pid  # type: ignore[union-attr]


async def test_readyz_reports_an_unreachable_database() -> None:
    from bot.db import create_engine_and_sessions

    engine, sessions = create_engine_and_sessions("sqlite+aiosqlite:////nonexistent/dir/x.db")
    try:
        response = await readyz(Health(sessions, settings()))
    finally:
        await engine.dispose()
    assert response.status_code == 503
    parts = response.json()["parts"]
    assert parts["database"]["ok"] is False and "OperationalError" in parts["database"]["error"]
    assert parts["outbox"] == {"ok": False, "error": "database unreachable"}


async def test_the_polling_loop_is_seen_dying_on_a_revoked_token() -> None:
    async with FakeTelegram() as telegram:
        application = Application.builder().token(telegram.token).base_url(telegram.base_url)
        app = application.build()
        health = Health(async_sessionmaker(), settings(), telegram=app)  # no database needed
        async with app:
            assert app.updater is not None
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            part = health.check_telegram()
            assert part is not None and part.ok, part
            telegram.fail_next("getUpdates", status=401, description="Unauthorized")
            # python-telegram-bot ends its loop on InvalidToken but still says it is running.
            await eventually(lambda: not health.check_telegram().ok)  # type: ignore[union-attr]
            assert app.updater.running
            part = health.check_telegram()
            assert part is not None and part.detail["polling_loop_alive"] is False
            with pytest.raises(InvalidToken):  # stop() re-raises what ended the loop
                await app.updater.stop()
            await app.stop()


# --------------------------------------------------------------------------- /metrics


async def get_metrics(app: object, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
        return await client.get("/metrics", headers=headers)


async def test_metrics_show_the_outbox_from_the_database(
    sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    await queue_outbox(sessions, age=timedelta(minutes=3))
    await queue_outbox(sessions, age=timedelta(minutes=1))
    health = Health(sessions, settings(db_url))
    response = await get_metrics(create_metrics_app(health.settings, health))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "milchak_outbox_depth 2.0" in lines
    oldest = next(line for line in lines if line.startswith("milchak_outbox_oldest_pending"))
    assert 179 < float(oldest.split()[1]) < 240
    assert any(line.startswith("# TYPE milchak_turn_seconds histogram") for line in lines)
    assert any(line.startswith("process_resident_memory_bytes") for line in lines)


async def test_metrics_with_a_token_need_it() -> None:
    app = create_metrics_app(settings(metrics_token=SecretStr("s3cret-token")))
    assert (await get_metrics(app)).status_code == 401
    assert (await get_metrics(app, authorization="Bearer wrong")).status_code == 401
    assert (await get_metrics(app, authorization="Bearer s3cret-token")).status_code == 200


def test_metrics_beyond_loopback_are_refused_without_a_token() -> None:
    check_metrics_address(settings(metrics_host="127.0.0.1"))
    check_metrics_address(settings(metrics_host="0.0.0.0", metrics_token=SecretStr("t")))
    with pytest.raises(SystemExit, match="MILCHAK_METRICS_TOKEN"):
        check_metrics_address(settings(metrics_host="0.0.0.0"))
    with pytest.raises(SystemExit):
        check_metrics_address(settings(metrics_host="0.0.0.0", metrics_token=SecretStr("")))


def test_alert_chat_ids_come_from_a_comma_separated_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MILCHAK_ALERT_CHAT_IDS", "900001, 900002")
    assert Settings().alert_chat_ids == (900001, 900002)
