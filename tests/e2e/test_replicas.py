"""`milchak run --replicas 2 --rasa-replicas 2` on PostgreSQL and Redis: 20 policyholders talk
through webhook POSTs that the kernel spreads over both app replicas (one shared port); one app
replica and one Rasa replica are killed half-way. Every message is in the ledger once, each
chat's messages and replies keep their order, and every request is alerted exactly once.

Runs only when PostgreSQL (``MILCHAK_TEST_POSTGRES_URL``, set by ``.ci/run``) and Redis
(127.0.0.1:6379) answer; it says which is missing otherwise.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
from asyncio.subprocess import PIPE, STDOUT
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.engine import make_url

from bot import clock
from bot.db import create_engine_and_sessions, session_scope
from bot.db.models import Contact, Employee, OutboxMessage, Policyholder, Request
from bot.demo.seed import RESERVED_NAMES
from bot.services.phones import format_phone
from tests.auxil.databases import (
    POSTGRES_SKIP_REASON,
    database_copy,
    demo_seeded_for,
    postgres_url,
)
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.running import milchak, stop_process
from tests.auxil.stack import ACTION_TOKEN, RASA_TOKEN, WEBHOOK_SECRET, free_port, free_ports
from tests.e2e.conftest import KIM_CHAT_ID, REFERENCE

pytestmark = pytest.mark.e2e

REDIS = ("127.0.0.1", 6379)
CUSTOMERS = 20
STARTED = re.compile(r"(Rasa|app) (rasa:\d+|app:\d+) started \(pid (\d+)")


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Chat:
    """One policyholder's Telegram chat, POSTing its updates to the webhook like Telegram."""

    def __init__(self, telegram: FakeTelegram, url: str, user_id: int, holder: Policyholder):
        self.telegram, self.url, self.user_id, self.holder = telegram, url, user_id, holder
        self.posted: list[int] = []  # update ids, in the order they were sent
        self.retried: set[int] = set()  # updates whose first POST died with a replica

    async def post(self, update: dict[str, Any]) -> None:
        """POST until a 2xx, on a new connection each time (so the kernel picks a replica)."""
        self.posted.append(update["update_id"])
        last = "no attempt"
        for _attempt in range(60):
            try:
                async with httpx.AsyncClient(timeout=60) as client:
                    response = await client.post(
                        self.url,
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                    )
                if 200 <= response.status_code < 300:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as error:
                last = f"{type(error).__name__}: {error}"
            self.retried.add(update["update_id"])
            await asyncio.sleep(0.5)
        raise AssertionError(
            f"chat {self.user_id}: update {update['update_id']} never accepted in 60 POSTs"
            f" (last: {last})"
        )

    async def say(self, text: str) -> None:
        await self.post(self.telegram.message_update(self.user_id, text=text))

    async def verify(self) -> None:
        await self.say("/start")
        phone = format_phone(self.holder.phone)
        contact = {"phone_number": phone, "first_name": "사용자", "user_id": self.user_id}
        await self.post(self.telegram.message_update(self.user_id, contact=contact))
        await self.say(self.holder.birth_date.strftime("%y%m%d"))

    async def burst(self, first: str, second: str) -> None:
        """Two messages in quick succession: the second arrives while the first is handled."""
        one = self.telegram.message_update(self.user_id, text=first)
        two = self.telegram.message_update(self.user_id, text=second)
        task = asyncio.create_task(self.post(one))
        await asyncio.sleep(0.005)
        await asyncio.gather(task, self.post(two))


async def _holders(sessions: Any) -> list[Policyholder]:
    async with session_scope(sessions) as session:
        kim = await session.scalar(select(Employee).where(Employee.telegram_chat_id == KIM_CHAT_ID))
        assert kim is not None
        unique_phones = (
            select(Policyholder.phone).group_by(Policyholder.phone).having(func.count() == 1)
        )
        rows = await session.scalars(
            select(Policyholder)
            .where(
                Policyholder.employee_id == kim.id,
                Policyholder.name.not_in(RESERVED_NAMES),
                Policyholder.phone.in_(unique_phones),
            )
            .order_by(Policyholder.id)
            .limit(CUSTOMERS)
        )
        holders = list(rows)
    assert len(holders) == CUSTOMERS
    return holders


async def test_replicas_share_the_work_and_survive_losing_one_app_and_one_rasa(
    tmp_path: Path,
) -> None:
    if not postgres_url():
        pytest.skip(POSTGRES_SKIP_REASON)
    if not redis_answers():
        pytest.skip(f"Redis does not answer on {REDIS[0]}:{REDIS[1]}: replica test not run")
    demo = demo_seeded_for(clock.today())
    async with database_copy("postgres", tmp_path, demo) as database_url:
        engine, sessions = create_engine_and_sessions(database_url)
        holders = await _holders(sessions)
        async with sessions() as session:
            before = int(await session.scalar(select(func.coalesce(func.max(Contact.id), 0))) or 0)
        tracker_url = make_url(database_url).set(drivername="postgresql")
        web_port, rasa_port, metrics_port = free_port(), free_ports(2), free_port()
        async with FakeTelegram(first_update_id=5_000_000) as telegram:
            env = {
                **os.environ,
                "MILCHAK_DATABASE_URL": database_url,
                "MILCHAK_TELEGRAM_TOKEN": telegram.token,
                "MILCHAK_TELEGRAM_BASE_URL": telegram.base_url,
                "MILCHAK_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{web_port}",
                "MILCHAK_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "MILCHAK_WEB_PORT": str(web_port),
                "MILCHAK_RASA_URL": f"http://127.0.0.1:{rasa_port}",
                "MILCHAK_RASA_TRACKER_URL": tracker_url.render_as_string(hide_password=False),
                "MILCHAK_REDIS_URL": "redis://127.0.0.1:6379/5",
                "MILCHAK_METRICS_PORT": str(metrics_port),
                "MILCHAK_ACTION_TOKEN": ACTION_TOKEN,
                "MILCHAK_RASA_TOKEN": RASA_TOKEN,
                "MILCHAK_OUTBOX_INTERVAL": "0.2",
                "MILCHAK_CHAT_CLAIM_LEASE_SECONDS": "3",
                "MILCHAK_RASA_PROBE_INTERVAL": "1",
            }
            process = await asyncio.create_subprocess_exec(
                *milchak("run", "--replicas", "2", "--rasa-replicas", "2"),
                env=env,
                stdout=PIPE,
                stderr=STDOUT,
            )
            lines: list[str] = []

            async def read() -> None:
                assert process.stdout is not None
                async for line in process.stdout:
                    lines.append(line.decode(errors="replace"))

            reader = asyncio.create_task(read())
            try:
                await _until_both_apps_registered(telegram, process, lines)
                pids = {m[1]: int(m[2]) for m in STARTED.findall("".join(lines))}
                url = f"http://127.0.0.1:{web_port}/telegram"
                chats = [
                    Chat(telegram, url, 6_100_000 + n, holder) for n, holder in enumerate(holders)
                ]
                await asyncio.gather(*(_first_half(chat) for chat in chats))
                served = await _messages_per_replica(metrics_port)
                # Half-way: one app replica and one Rasa replica die (SIGKILL, nothing tidy).
                os.kill(pids["app:1"], signal.SIGKILL)
                os.kill(pids[f"rasa:{rasa_port + 1}"], signal.SIGKILL)
                await asyncio.gather(*(_second_half(chat) for chat in chats))
                await _outbox_drained(sessions)
                await _check(sessions, telegram, chats, before=before)
            except BaseException as error:
                # What the replicas said is usually the reason; pytest prints the note.
                error.add_note(
                    "milchak run output, last 8000 characters:\n" + "".join(lines)[-8000:]
                )
                raise
            finally:
                await stop_process(process)
                await asyncio.wait_for(reader, 10)
                await engine.dispose()
        assert process.returncode == 0, "".join(lines)[-5000:]
        # Both replicas took messages before one died (the kernel spread the connections).
        assert served[0] > 0 and served[1] > 0, served


async def _until_both_apps_registered(
    telegram: FakeTelegram, process: asyncio.subprocess.Process, lines: list[str]
) -> None:
    """Wait for both app replicas' setWebhook (each calls it once its Application runs)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while len(telegram.calls_to("setWebhook")) < 2:
        if process.returncode is not None:
            raise AssertionError("milchak run exited:\n" + "".join(lines)[-5000:])
        if loop.time() - started > 300:
            raise AssertionError("replicas not up in 300 s:\n" + "".join(lines)[-5000:])
        await asyncio.sleep(0.25)


async def _first_half(chat: Chat) -> None:
    await chat.verify()
    await chat.say("안녕하세요")


async def _second_half(chat: Chat) -> None:
    await chat.burst("내 보험 뭐 있는지 알려주세요", "고마워요")
    await chat.say("보험금 청구한 지 한 달이 넘었는데 아직도 안 들어왔어요")
    await chat.say("보험금 지급")  # the complaint's category (what happened is already kept)
    await chat.say("책 살 때도 할인되는 서비스가 있으면 좋겠어요")


async def _outbox_drained(sessions: Any) -> None:
    for _ in range(150):
        async with sessions() as session:
            waiting = await session.scalar(
                select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
            )
        if not waiting:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{waiting} outbox messages still waiting")


async def _messages_per_replica(metrics_port: int) -> list[float]:
    """Inbound messages counted so far by each app replica's /metrics."""
    counts = []
    for index in range(2):
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                text = (
                    await client.get(f"http://127.0.0.1:{metrics_port + 1 + index}/metrics")
                ).text
        except httpx.HTTPError:
            counts.append(-1.0)
            continue
        found = re.search(
            r'milchak_messages_total\{channel="telegram",direction="in"\} (\S+)', text
        )
        counts.append(float(found.group(1)) if found else 0.0)
    return counts


async def _check(sessions: Any, telegram: FakeTelegram, chats: list[Chat], *, before: int) -> None:
    async with session_scope(sessions) as session:
        posted = [u for chat in chats for u in chat.posted]
        stored = dict(
            (
                await session.execute(
                    select(Contact.telegram_update_id, func.count())
                    .where(Contact.telegram_update_id.in_(posted))
                    .group_by(Contact.telegram_update_id)
                )
            ).all()
        )
        # Every message in the ledger exactly once.
        missing = [u for u in posted if u not in stored]
        repeated = {u: n for u, n in stored.items() if n != 1}
        assert not missing and not repeated, (
            f"ledger: {len(missing)} updates missing {missing[:20]}, stored more than once "
            f"{repeated}; chats that re-sent: {[c.user_id for c in chats if c.retried]}"
        )
        references: set[str] = set()
        for chat in chats:
            rows = list(
                await session.scalars(
                    select(Contact)
                    .where(
                        Contact.id > before,
                        or_(
                            Contact.telegram_user_id == chat.user_id,
                            Contact.policyholder_id == chat.holder.id,
                        ),
                    )
                    .order_by(Contact.id)
                )
            )
            inbound = [r.telegram_update_id for r in rows if r.direction == "in"]
            # Each chat's messages were handled in the order they were sent …
            assert inbound == sorted(chat.posted), (chat.user_id, inbound, chat.posted)
            replies = [r for r in rows if r.direction == "out"]
            sent = telegram.sent(chat.user_id)
            # … and its replies went out in the order they were stored: the fake's message ids
            # grow with every message sent, across chats.
            ids = [m.message_id for m in sent]
            assert ids == sorted(ids), (chat.user_id, "replies out of order", ids)
            texts = [m.text for m in sent]
            policies = next((i for i, t in enumerate(texts) if "KL-" in t), None)
            thanks = next((i for i, t in enumerate(texts) if "천만에요" in t), None)
            if policies is not None and thanks is not None:
                assert policies < thanks, texts
            assert len(replies) >= len(sent), (
                f"chat {chat.user_id}: {len(sent)} messages sent but {len(replies)} in the ledger"
            )
            for text in texts:
                references.update(REFERENCE.findall(text))
            if not chat.retried:  # nothing of this chat was in flight on the killed replica
                assert len(REFERENCE.findall("\n".join(texts))) >= 2, texts
        # Every request of these customers was alerted exactly once.
        opened = list(
            await session.scalars(
                select(Request).where(
                    Request.policyholder_id.in_([chat.holder.id for chat in chats])
                )
            )
        )
        unknown = references - {r.reference for r in opened}
        assert not unknown, f"references told to customers but not stored: {sorted(unknown)}"
    alerts = "\n".join(m.text for m in telegram.sent(KIM_CHAT_ID))
    counts = {r.reference: alerts.count(r.reference) for r in opened}
    assert all(n == 1 for n in counts.values()), "alerts per request (each must be 1): " + str(
        {ref: n for ref, n in counts.items() if n != 1}
    )
    assert len(opened) >= CUSTOMERS, f"{len(opened)} requests opened for {CUSTOMERS} customers"
