"""Outbox delivery: retries, 429/403 handling, exactly-once claims across workers."""

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.clock import Clock, FrozenClock, set_clock
from bot.db.engine import session_scope
from bot.db.models import Employee, OutboxMessage, Request
from bot.services.escalation import reroute_blocked
from bot.services.outbox import (
    MAX_BACKOFF,
    RETRY_FOR,
    deliver_due,
    enqueue,
    failed_messages,
    requeue,
    run_outbox_worker,
)
from bot.services.sla import Deadlines
from bot.telegram.sender import telegram_sender
from tests.auxil.employees import DEPUTY_CHAT, OWNER_CHAT, build_org, freeze, new_request
from tests.auxil.fake_telegram import FakeTelegram


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


class Recorder:
    """A ``send`` that records deliveries and raises queued errors first."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.errors: dict[int, list[Exception]] = {}
        self.next_id = 100

    async def __call__(self, message: OutboxMessage) -> int:
        queue = self.errors.get(message.chat_id)
        if queue:
            raise queue.pop(0)
        self.sent.append((message.chat_id, message.text))
        self.next_id += 1
        return self.next_id


async def _queue(sessions: async_sessionmaker[AsyncSession], *chats: int) -> None:
    async with sessions() as session:
        for i, chat in enumerate(chats):
            await enqueue(session, chat_id=chat, text=f"메시지 {i}", purpose="notice")
        await session.commit()


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_delivers_and_stores_message_id(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _queue(sessions, 1, 2)
    send = Recorder()
    assert await deliver_due(sessions, send) == 2
    assert send.sent == [(1, "메시지 0"), (2, "메시지 1")]
    rows = await _rows(sessions)
    assert [(r.status, r.telegram_message_id, r.attempts) for r in rows] == [
        ("sent", 101, 1),
        ("sent", 102, 1),
    ]
    assert await deliver_due(sessions, send) == 0  # never twice


async def test_retry_after_waits_and_keeps_chat_order(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    await _queue(sessions, 1, 1, 2)
    send = Recorder()
    send.errors[1] = [RetryAfter(30)]
    assert await deliver_due(sessions, send) == 1  # chat 2 is not held up
    assert send.sent == [(2, "메시지 2")]
    frozen.advance(timedelta(seconds=29))
    assert await deliver_due(sessions, send) == 0
    frozen.advance(timedelta(seconds=1))
    assert await deliver_due(sessions, send) == 2
    assert send.sent[1:] == [(1, "메시지 0"), (1, "메시지 1")]  # still in order


class Outage:
    """A ``send`` for a Telegram that is unreachable until told otherwise."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.down = True
        self.calls = 0
        self.sent: list[str] = []

    async def __call__(self, message: OutboxMessage) -> int:
        self.calls += 1
        if self.down:
            raise self.error
        self.sent.append(message.text)
        return 500 + len(self.sent)


async def _run_outage(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock, send: Outage, hours: float
) -> list[OutboxMessage]:
    """Let the worker run every due round for ``hours`` of frozen time."""
    end = frozen.now() + timedelta(hours=hours)
    while frozen.now() < end:
        await deliver_due(sessions, send)
        [row] = await _rows(sessions)
        if row.status != "pending":
            break
        frozen.advance(max(row.next_attempt_at.replace(tzinfo=None) - _naive(frozen), _TICK))
    return await _rows(sessions)


_TICK = timedelta(seconds=1)


def _naive(frozen: FrozenClock) -> datetime:
    return frozen.now().replace(tzinfo=None)


@pytest.mark.parametrize(
    "error",
    [TimedOut(), NetworkError("Bad Gateway"), NetworkError("Internal Server Error")],
    ids=["timeout", "502", "500"],
)
async def test_network_and_server_errors_are_retried_for_24_hours(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock, error: Exception
) -> None:
    await _queue(sessions, 1)
    send = Outage(error)
    started = frozen.now()

    rows = await _run_outage(sessions, frozen, send, hours=23.9)
    assert [r.status for r in rows] == ["pending"]  # still trying after almost a day
    # Capped backoff: about one try every ten minutes once the cap is reached, not 8 tries.
    assert send.calls >= 23 * 60 / (MAX_BACKOFF.total_seconds() / 60)
    assert rows[0].next_attempt_at.replace(tzinfo=None) - _naive(frozen) <= MAX_BACKOFF

    rows = await _run_outage(sessions, frozen, send, hours=1)
    assert [r.status for r in rows] == ["failed"]
    assert frozen.now() - started >= RETRY_FOR
    assert type(error).__name__ in (rows[0].last_error or "")
    async with sessions() as session:
        assert [m.id for m in await failed_messages(session)] == [rows[0].id]


async def test_a_failed_message_can_be_queued_again(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    await _queue(sessions, 1)
    send = Outage(TimedOut())
    [failed] = await _run_outage(sessions, frozen, send, hours=25)
    assert failed.status == "failed"

    async with sessions() as session:
        assert await requeue(session, message_id=failed.id)
        assert not await requeue(session, message_id=failed.id)  # pending now, not failed
        await session.commit()
    # A fresh day of retries from the re-queue, not from when the message was first queued.
    rows = await _run_outage(sessions, frozen, send, hours=23)
    assert [r.status for r in rows] == ["pending"]
    send.down = False
    frozen.advance(MAX_BACKOFF)
    assert await deliver_due(sessions, send) == 1
    [row] = await _rows(sessions)
    assert row.status == "sent" and send.sent == ["메시지 0"]


async def test_backoff_grows(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    await _queue(sessions, 1)
    send = Recorder()
    send.errors[1] = [TimedOut(), TimedOut()]
    await deliver_due(sessions, send)
    frozen.advance(timedelta(seconds=1))
    assert await deliver_due(sessions, send) == 0  # 2 s backoff not over
    frozen.advance(timedelta(seconds=1))
    await deliver_due(sessions, send)  # second failure → 4 s
    frozen.advance(timedelta(seconds=3))
    assert await deliver_due(sessions, send) == 0
    frozen.advance(timedelta(seconds=1))
    assert await deliver_due(sessions, send) == 1


async def test_bad_request_fails_without_retry(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _queue(sessions, 1)
    send = Recorder()
    send.errors[1] = [BadRequest("Bad Request: chat not found")]
    await deliver_due(sessions, send)
    [row] = await _rows(sessions)
    assert row.status == "failed"


async def test_forbidden_marks_employee_blocked_and_reroutes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    send = Recorder()
    send.errors[OWNER_CHAT] = [Forbidden("Forbidden: bot was blocked by the user")]
    await deliver_due(sessions, send)
    async with sessions() as session:
        owner = await session.get(Employee, org.owner_id)
        assert owner is not None and owner.telegram_blocked
        req = await session.get(Request, request.id)
        assert req is not None and req.employee_id == org.owner_id  # the outbox only marks
    # The escalation round moves the blocked employee's request on along the chain.
    async with session_scope(sessions) as session:
        assert await reroute_blocked(session, deadlines=Deadlines()) == 1
    async with sessions() as session:
        req = await session.get(Request, request.id)
        assert req is not None and req.employee_id == org.deputy_id
    # The deputy's alert (queued by the re-route) goes out next round, with the reason.
    await deliver_due(sessions, send)
    [(chat, text)] = send.sent
    assert chat == DEPUTY_CHAT
    assert "차단" in text and request.reference in text


async def test_one_bad_row_does_not_stop_the_rest(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _queue(sessions, 1, 2, 3)

    async def send(message: OutboxMessage) -> int:
        if message.chat_id == 2:
            raise ValueError("renderer bug")
        return 1

    assert await deliver_due(sessions, send) == 2
    statuses = [r.status for r in await _rows(sessions)]
    assert statuses == ["sent", "pending", "sent"]


async def test_expired_lease_is_claimed_again(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    await _queue(sessions, 1)
    async with sessions() as session:  # a worker claimed it and died
        row = await session.scalar(select(OutboxMessage))
        assert row is not None
        row.status = "sending"
        row.next_attempt_at = frozen.now() + timedelta(seconds=120)
        await session.commit()
    send = Recorder()
    assert await deliver_due(sessions, send) == 0
    frozen.advance(timedelta(seconds=121))
    assert await deliver_due(sessions, send) == 1


async def test_two_workers_deliver_each_message_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two workers (separate connections) race over 200 rows; each is sent exactly once."""
    await _queue(sessions, *range(1, 201))
    delivered: list[int] = []

    async def slow_send(message: OutboxMessage) -> int:
        await asyncio.sleep(0.001)
        delivered.append(message.id)
        return message.id

    async def worker() -> None:
        while await deliver_due(sessions, slow_send, limit=7):
            pass

    await asyncio.gather(worker(), worker(), worker())
    assert sorted(delivered) == sorted(set(delivered))
    assert len(delivered) == 200
    async with sessions() as session:
        assert (
            await session.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == 200
        )


async def test_worker_with_real_bot_against_fake_telegram(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The PTB sender end to end: 429 then success, 403 blocked, buttons kept."""
    set_clock(Clock())  # real time: the worker sleeps for the 429's retry_after
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    async with FakeTelegram() as fake:
        bot = Bot(fake.token, base_url=fake.base_url)
        async with bot:
            fake.fail_next("sendMessage", OWNER_CHAT, status=429, retry_after=1)
            stop = asyncio.Event()
            task = asyncio.create_task(
                run_outbox_worker(sessions, telegram_sender(bot), interval=0.05, stop=stop)
            )
            try:
                alert = await fake.wait_for_message(OWNER_CHAT, timeout=10)
                assert request.reference in alert.text
                assert [t for t, _ in alert.buttons] == ["접수", "답장", "완료", "이관"]
                for _ in range(200):  # the row is marked just after Telegram answered
                    async with sessions() as session:
                        row = await session.scalar(select(OutboxMessage))
                    assert row is not None
                    if row.status == "sent":
                        break
                    await asyncio.sleep(0.02)
                assert row.telegram_message_id == alert.message_id
                assert row.last_error is None and row.status == "sent"
                assert len(fake.calls_to("sendMessage")) == 2  # the 429, then the delivery
            finally:
                stop.set()
                await task
