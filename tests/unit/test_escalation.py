"""SLA deadlines and escalation: deputy, then head, each alerted once, state in the database."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SEOUL, Clock, FrozenClock, set_clock
from bot.config import Settings
from bot.db.engine import session_scope
from bot.db.models import Employee, OutboxMessage, Request, RequestEvent
from bot.services import casework
from bot.services.escalation import escalate_due, reroute_blocked
from bot.services.sla import Deadlines, due_at
from tests.auxil.employees import DEPUTY_CHAT, HEAD_CHAT, OWNER_CHAT, build_org, freeze, new_request


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


def seoul(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kind", "opened", "due"),
    [
        ("funeral", seoul(2026, 11, 28, 23, 30), seoul(2026, 11, 29, 0, 30)),  # Saturday night
        ("loan", seoul(2026, 11, 24, 10, 0), seoul(2026, 11, 24, 14, 0)),
        ("loan", seoul(2026, 11, 24, 16, 0), seoul(2026, 11, 25, 11, 0)),  # 2 h today, 2 h tomorrow
        ("loan", seoul(2026, 11, 24, 20, 0), seoul(2026, 11, 25, 13, 0)),  # evening: from 09:00
        ("loan", seoul(2026, 11, 27, 17, 0), seoul(2026, 11, 30, 12, 0)),  # Friday → Monday
        ("loan", seoul(2026, 11, 29, 3, 0), seoul(2026, 11, 30, 13, 0)),  # Sunday
        ("complaint", seoul(2026, 11, 24, 10, 0), seoul(2026, 11, 25, 10, 0)),
        ("moving", seoul(2026, 11, 24, 10, 0), seoul(2026, 11, 26, 10, 0)),
    ],
)
def test_deadlines(kind: str, opened: datetime, due: datetime) -> None:
    assert due_at(kind, opened, Deadlines()) == due
    assert due_at(kind, opened, Deadlines()).tzinfo is not None


def test_deadlines_are_configurable() -> None:
    deadlines = Deadlines.from_settings(
        Settings(sla_funeral_hours=2.0, sla_loan_business_hours=1.0)
    )
    opened = seoul(2026, 11, 24, 10, 0)
    assert due_at("funeral", opened, deadlines) == opened + timedelta(hours=2)
    assert due_at("loan", opened, deadlines) == seoul(2026, 11, 24, 11, 0)
    assert due_at("complaint", opened, deadlines) == opened + timedelta(hours=24)
    assert deadlines.describe("loan") == "업무시간 기준 1시간"


async def _alerts(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[int, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.chat_id, r.purpose) for r in rows]


async def _escalate(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    async with session_scope(sessions) as session:
        return await escalate_due(session, now=now, deadlines=Deadlines())


async def test_funeral_escalates_to_deputy_then_head_once_each(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org, kind="funeral", summary="부친상, 인천 길병원")
    assert await _escalate(sessions, frozen.now() + timedelta(minutes=59)) == 0
    frozen.advance(timedelta(hours=1))
    assert await _escalate(sessions, frozen.now()) == 1
    assert await _escalate(sessions, frozen.now()) == 0  # the same deadline never alerts twice
    async with sessions() as session:
        req = await session.get(Request, request.id)
        assert req is not None
        assert (req.employee_id, req.escalation_level) == (org.deputy_id, 1)
        deputy_alert = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.chat_id == DEPUTY_CHAT)
        )
        assert deputy_alert is not None
        assert "접수 기한(1시간)이 지나도록 박민수 대리께서 접수하지 않아" in deputy_alert.text
        assert deputy_alert.reply_markup is not None
    frozen.advance(timedelta(hours=1))
    assert await _escalate(sessions, frozen.now()) == 1
    frozen.advance(timedelta(days=3))
    assert await _escalate(sessions, frozen.now()) == 0  # the head was the last step
    assert await _alerts(sessions) == [
        (OWNER_CHAT, "alert"),
        (DEPUTY_CHAT, "escalation"),
        (HEAD_CHAT, "escalation"),
    ]
    async with sessions() as session:
        req = await session.get(Request, request.id)
        assert req is not None
        assert (req.employee_id, req.escalation_level, req.due_at) == (org.head_id, 2, None)
        events = await session.scalars(
            select(RequestEvent.action).where(RequestEvent.request_id == req.id)
        )
        assert list(events) == ["created", "escalated", "escalated"]


async def test_acknowledged_requests_do_not_escalate(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org, kind="complaint")
    async with session_scope(sessions) as session:
        req = await session.get(Request, request.id)
        owner = await session.get(Employee, org.owner_id)
        assert req is not None and owner is not None
        await casework.acknowledge(session, request=req, employee=owner)
    assert await _escalate(sessions, frozen.now() + timedelta(days=10)) == 0


async def test_loan_waits_for_business_hours(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    org = await build_org(sessions)
    frozen.advance(timedelta(hours=7))  # Tuesday 17:00 Seoul: 1 h today, 3 h Wednesday
    await new_request(sessions, org, kind="loan")
    assert await _escalate(sessions, datetime(2026, 11, 25, 2, 59, tzinfo=UTC)) == 0  # Wed 11:59
    assert await _escalate(sessions, datetime(2026, 11, 25, 3, 0, tzinfo=UTC)) == 1  # Wed 12:00


async def test_unreachable_deputy_is_skipped(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    org = await build_org(sessions)
    async with session_scope(sessions) as session:
        deputy = await session.get(Employee, org.deputy_id)
        assert deputy is not None
        deputy.telegram_blocked = True
    request = await new_request(sessions, org, kind="funeral")
    assert await _escalate(sessions, frozen.now() + timedelta(hours=1)) == 1
    async with sessions() as session:
        req = await session.get(Request, request.id)
        assert req is not None
        assert (req.employee_id, req.escalation_level) == (org.head_id, 2)


async def test_state_survives_a_restart(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock, engine: object
) -> None:
    """A new session factory (a restarted process) picks up exactly where the last one was."""
    from bot.db import create_engine_and_sessions

    org = await build_org(sessions)
    await new_request(sessions, org, kind="funeral")
    frozen.advance(timedelta(hours=1))
    assert await _escalate(sessions, frozen.now()) == 1
    url = str(sessions.kw["bind"].url.render_as_string(hide_password=False))
    other_engine, restarted = create_engine_and_sessions(url)
    try:
        assert await _escalate(restarted, frozen.now()) == 0
        frozen.advance(timedelta(hours=1))
        assert await _escalate(restarted, frozen.now()) == 1
    finally:
        await other_engine.dispose()
    assert [chat for chat, _ in await _alerts(sessions)] == [OWNER_CHAT, DEPUTY_CHAT, HEAD_CHAT]


async def test_blocked_employee_with_nobody_further_is_marked_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The owner blocked the bot and the deputy and head cannot be reached either: the request
    stays, with one ``unroutable`` event however many rounds run."""
    org = await build_org(sessions)
    request = await new_request(sessions, org, kind="complaint")
    async with session_scope(sessions) as session:
        for employee_id in (org.owner_id, org.deputy_id, org.head_id):
            employee = await session.get(Employee, employee_id)
            assert employee is not None
            employee.telegram_blocked = True
    for _round in range(3):
        async with session_scope(sessions) as session:
            assert await reroute_blocked(session, deadlines=Deadlines()) == 0
    async with sessions() as session:
        req = await session.get(Request, request.id)
        assert req is not None and req.employee_id == org.owner_id
        events = await session.scalars(
            select(RequestEvent.action).where(RequestEvent.request_id == request.id)
        )
        assert list(events) == ["created", "unroutable"]
