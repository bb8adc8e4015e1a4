"""`milchak run` heals a killed Rasa: the outage answer while it is down, a normal answer once the
supervisor has restarted it, /readyz 503 then 200, and the restart counted in /metrics."""

import os
import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import texts
from bot.db import session_scope
from bot.db.models import Contact, Employee, Policyholder, Request, RequestKind
from bot.demo.seed import RESERVED_NAMES
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.running import milchak_run_with_rasa
from tests.auxil.stack import seeded_database
from tests.auxil.staff import Holder
from tests.e2e.conftest import KIM_CHAT_ID, Customer, reference_in, texts_of

pytestmark = pytest.mark.e2e

OUTAGE = texts.RASA_DOWN.split("(")[0].strip()  # "죄송해요, 지금 상담 시스템에 … 전달했어요."


async def test_a_killed_rasa_is_restarted_and_the_bot_answers_normally_again(
    tmp_path: Path,
) -> None:
    database_url, sessions = await seeded_database(tmp_path / "run.db")
    async with session_scope(sessions) as session:
        kim = await session.scalar(select(Employee).where(Employee.telegram_chat_id == KIM_CHAT_ID))
        assert kim is not None
        policyholder = await session.scalar(
            select(Policyholder)
            .where(Policyholder.employee_id == kim.id, Policyholder.name.not_in(RESERVED_NAMES))
            .order_by(Policyholder.id)
            .limit(1)
        )
        assert policyholder is not None
        holder = Holder.of(policyholder)

    async with (
        FakeTelegram() as telegram,
        milchak_run_with_rasa(
            telegram, tmp_path, database_url, MILCHAK_RASA_PROBE_INTERVAL="1"
        ) as run,
    ):
        await run.wait_ready(within=300)  # Rasa loads its model first
        customer = Customer(telegram, holder)
        await customer.verify()
        before = await customer.say("대출 받고 싶어요")
        assert OUTAGE not in texts_of(before)
        metrics = await run.metrics()
        instance = f"rasa:{run.rasa_port}"  # the supervised process, label `rasa`
        assert metrics[("milchak_rasa_up", (("rasa", instance),))] == 1.0
        restarts_key = (
            "milchak_rasa_restarts_total",
            (("rasa", instance), ("reason", "exited")),
        )
        assert metrics.get(restarts_key, 0.0) == 0.0

        pid = await run.rasa_pid()
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would

        # While Rasa is down: the outage answer, the message kept, one request per outage.
        first = await customer.say("취소")
        assert OUTAGE in texts_of(first), texts_of(first)
        reference = reference_in(first)
        readyz = await run.readyz()
        assert readyz.status_code == 503
        rasa = readyz.json()["parts"]["rasa"]
        assert rasa["ok"] is False and rasa["instances"][0]["state"] in {"down", "starting"}
        assert readyz.json()["parts"]["database"]["ok"] is True
        second = await customer.say("아직 안 되나요?")
        assert OUTAGE in texts_of(second) and reference_in(second) == reference

        # The supervisor restarts Rasa on its own; then the next message is handled normally.
        await run.wait_ready(within=300)
        assert await run.rasa_pid() != pid
        after = await customer.say("대출 받고 싶어요")
        assert OUTAGE not in texts_of(after), texts_of(after)

        metrics = await run.metrics()
        assert metrics[restarts_key] == 1.0
        assert metrics[("milchak_rasa_up", (("rasa", instance),))] == 1.0
        webhook = ("milchak_rasa_errors_total", (("endpoint", "/webhooks/rest/webhook"),))
        assert metrics[webhook] >= 2  # one call per message (the REST channel parses too)
        assert metrics[("milchak_requests_opened_total", (("kind", "question"),))] == 1.0
        assert metrics[("milchak_turn_seconds_count", ())] >= 4
        assert metrics[("milchak_messages_total", (("channel", "telegram"), ("direction", "in")))]
        assert f"pid {pid}" in run.output and "exited with code -9" in run.output
        await run.stop()

    async with session_scope(sessions) as session:
        outage_requests = list(
            await session.scalars(
                select(Request).where(
                    Request.policyholder_id == holder.id, Request.kind == RequestKind.QUESTION
                )
            )
        )
        assert [r.reference for r in outage_requests] == [reference]
        assert outage_requests[0].details["messages"] == ["취소", "아직 안 되나요?"]
        last_in = await session.scalar(
            select(Contact)
            .where(Contact.policyholder_id == holder.id, Contact.direction == "in")
            .order_by(Contact.id.desc())
            .limit(1)
        )
        assert last_in is not None and last_in.text == "대출 받고 싶어요"
        assert last_in.intent == "request_loan"  # understood by the restarted Rasa
