"""`milchak run` as a process: serves Telegram, answers, and stops cleanly on SIGTERM."""

import asyncio
import os
import signal
import sys
from asyncio.subprocess import PIPE, STDOUT
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import ACTION_TOKEN, RASA_TOKEN, free_port

pytestmark = pytest.mark.e2e


def milchak(*args: str) -> list[str]:
    return [sys.executable, "-c", "from bot.cli import main; main()", *args]


@asynccontextmanager
async def milchak_run(
    telegram: FakeTelegram, tmp_path: Path, web_port: int, **settings: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`milchak run --no-rasa` on a fresh database; the caller sends SIGTERM and checks the exit."""
    env = {
        **os.environ,
        "MILCHAK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "MILCHAK_TELEGRAM_TOKEN": telegram.token,
        "MILCHAK_TELEGRAM_BASE_URL": telegram.base_url,
        "MILCHAK_WEB_PORT": str(web_port),
        "MILCHAK_RASA_URL": f"http://127.0.0.1:{free_port()}",  # Rasa down: not needed here
        "MILCHAK_METRICS_PORT": str(free_port()),
        "MILCHAK_ACTION_TOKEN": ACTION_TOKEN,  # a Rasa run elsewhere shares both
        "MILCHAK_RASA_TOKEN": RASA_TOKEN,
        **settings,
    }
    upgrade = await asyncio.create_subprocess_exec(*milchak("db", "upgrade"), env=env)
    assert await upgrade.wait() == 0
    process = await asyncio.create_subprocess_exec(
        *milchak("run", "--no-rasa"), env=env, stdout=PIPE, stderr=STDOUT
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then the exit code must be 0."""
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()


async def test_run_serves_telegram_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with FakeTelegram() as telegram, milchak_run(telegram, tmp_path, free_port()) as process:
        await telegram.wait_for_call("getUpdates", timeout=60)
        telegram.push_text(5_550_001, "/start")
        welcome = await telegram.wait_for_message(5_550_001, timeout=30)
        assert "본인 확인" in welcome.text
        await stop(process)


async def test_run_in_webhook_mode_registers_serves_and_keeps_the_webhook(tmp_path: Path) -> None:
    web_port = free_port()
    webhook = {
        "MILCHAK_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{web_port}/",
        "MILCHAK_TELEGRAM_WEBHOOK_SECRET": "runner-secret_1",
    }
    async with (
        FakeTelegram() as telegram,
        milchak_run(telegram, tmp_path, web_port, **webhook) as process,
    ):
        call = await telegram.wait_for_call("setWebhook", timeout=60)
        assert call.params["url"] == f"http://127.0.0.1:{web_port}/telegram"
        assert call.params["secret_token"] == "runner-secret_1"
        update_id = telegram.push_text(5_550_002, "/start")
        welcome = await telegram.wait_for_message(5_550_002, timeout=30)
        assert "본인 확인" in welcome.text
        assert (await telegram.wait_for_delivery(update_id)).status == 200
        await stop(process)
        assert not telegram.calls_to("getUpdates")
        assert not telegram.calls_to("deleteWebhook")  # left set: Telegram keeps what comes next
        assert telegram.webhook_url.endswith("/telegram")
