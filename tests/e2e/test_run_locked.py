"""`milchak run` as a process, with its own Rasa: the tokens it makes up for the run let Rasa
call the actions and the app call Rasa, and nobody else; on a public address without a token
it refuses to start."""

import asyncio
import os
import signal
import sys
from asyncio.subprocess import PIPE, STDOUT
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.actions.server import sender_id_for
from bot.db import create_engine_and_sessions
from bot.db.models import Policyholder
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import free_port
from tests.auxil.staff import Holder
from tests.e2e.conftest import Customer, texts_of

pytestmark = pytest.mark.e2e


def milchak(*args: str) -> list[str]:
    return [sys.executable, "-c", "from bot.cli import main; main()", *args]


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A fresh database; no tokens, whatever the developer's .env says."""
    return {
        **os.environ,
        "MILCHAK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "MILCHAK_RASA_TRACKER_URL": f"sqlite:///{tmp_path / 'trackers.db'}",
        "MILCHAK_ACTION_TOKEN": "",
        "MILCHAK_RASA_TOKEN": "",
        **settings,
    }


async def run_to_end(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run a command to its end (two minutes at most); its exit code and output."""
    process = await asyncio.create_subprocess_exec(*args, env=env, stdout=PIPE, stderr=STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_run_refuses_a_public_web_host_without_a_token(tmp_path: Path) -> None:
    web_port = free_port()
    env = environment(tmp_path, MILCHAK_WEB_HOST="0.0.0.0", MILCHAK_WEB_PORT=str(web_port))
    code, output = await run_to_end(*milchak("run"), env=env)
    assert code != 0
    assert "MILCHAK_ACTION_TOKEN" in output
    with pytest.raises(httpx.ConnectError):  # nothing was served meanwhile
        async with httpx.AsyncClient() as http:
            await http.get(f"http://127.0.0.1:{web_port}/healthz")


async def test_run_with_its_own_rasa_answers_customers_and_no_one_else(tmp_path: Path) -> None:
    web_port, rasa_port = free_port(), free_port()
    async with FakeTelegram() as telegram:
        env = environment(
            tmp_path,
            MILCHAK_TELEGRAM_TOKEN=telegram.token,
            MILCHAK_TELEGRAM_BASE_URL=telegram.base_url,
            MILCHAK_WEB_PORT=str(web_port),
            MILCHAK_RASA_URL=f"http://127.0.0.1:{rasa_port}",
            MILCHAK_METRICS_PORT=str(free_port()),  # 9108 may be taken by a running milchak
        )
        for step in (("db", "upgrade"), ("seed", "--demo")):
            code, output = await run_to_end(*milchak(*step), env=env)
            assert code == 0, output
        engine, sessions = create_engine_and_sessions(env["MILCHAK_DATABASE_URL"])
        async with sessions() as session:
            lee = await session.scalar(select(Policyholder).where(Policyholder.name == "이영숙"))
            assert lee is not None
            holder = Holder.of(lee)
        await engine.dispose()

        process = await asyncio.create_subprocess_exec(
            *milchak("run"), env=env, stdout=PIPE, stderr=STDOUT
        )
        try:
            await telegram.wait_for_call("getUpdates", timeout=300)  # after Rasa is ready
            customer = Customer(telegram, holder)
            await customer.verify()
            # Rasa calls the action with the run's token: the answer comes from the database.
            answer = await customer.say("내 보험 알려주세요")
            assert "KL-1994-000123" in texts_of(answer)

            question = {
                "next_action": "action_answer_policy",
                "tracker": {"sender_id": sender_id_for(holder.id)},
            }
            async with httpx.AsyncClient(timeout=30) as http:
                for params in ({}, {"token": "guess-" + "0" * 40}):
                    refused = await http.post(
                        f"http://127.0.0.1:{web_port}/actions/webhook", json=question, params=params
                    )
                    assert refused.status_code == 401
                rasa = f"http://127.0.0.1:{rasa_port}"
                tracker = await http.get(f"{rasa}/conversations/{sender_id_for(holder.id)}/tracker")
                assert tracker.status_code == 401
                posted = await http.post(
                    f"{rasa}/webhooks/rest/webhook",
                    json={"sender": sender_id_for(holder.id), "message": "내 보험 알려주세요"},
                )
                assert posted.status_code == 401
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, output.decode()[-3000:]
