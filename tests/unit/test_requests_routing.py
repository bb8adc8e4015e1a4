"""Opening a request: persisted with a daily reference, routed owner → deputy → head, alert queued."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db import session_scope
from bot.db.models import Employee, OutboxMessage, Policyholder, Request, RequestEvent
from bot.services.requests import open_request
from bot.services.sla import Deadlines

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def frozen() -> clock.FrozenClock:
    frozen = clock.FrozenClock(datetime(2026, 11, 25, 1, 30, tzinfo=UTC))  # 10:30 in Seoul
    clock.set_clock(frozen)
    yield frozen
    clock.set_clock(clock.Clock())


async def _lee(session: AsyncSession) -> Policyholder:
    holder = await session.scalar(select(Policyholder).where(Policyholder.phone == "01055123087"))
    assert holder is not None
    return holder


async def test_request_goes_to_the_owner_with_an_alert(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(demo_sessions) as session:
        lee = await _lee(session)
        first = await open_request(
            session,
            policyholder=lee,
            kind="loan",
            summary="약관대출 3,000,000원",
            deadlines=Deadlines(),
        )
        second = await open_request(
            session, policyholder=lee, kind="funeral", summary="장례", deadlines=Deadlines()
        )
    assert first.reference == "R-20261125-0001" and second.reference == "R-20261125-0002"
    assert second.urgent and not first.urgent
    async with session_scope(demo_sessions) as session:
        kim = await session.get(Employee, first.employee_id)
        assert kim is not None and kim.name == "김영환"
        alerts = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert [a.chat_id for a in alerts] == [900001, 900001]
        assert "R-20261125-0001" in alerts[0].text and "이영숙" in alerts[0].text
        created = await session.scalar(
            select(RequestEvent).where(RequestEvent.request_id == first.id)
        )
        assert created is not None and created.action == "created"


async def test_unlinked_owner_routes_to_deputy_then_head(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(demo_sessions) as session:
        lee = await _lee(session)
        kim = await session.get(Employee, lee.employee_id)
        assert kim is not None and kim.deputy_id is not None
        kim.telegram_chat_id = None
        to_deputy = await open_request(
            session, policyholder=lee, kind="callback", summary="연락 요청", deadlines=Deadlines()
        )
        assert to_deputy.employee_id == kim.deputy_id
        deputy = await session.get(Employee, kim.deputy_id)
        assert deputy is not None
        deputy.away_from, deputy.away_until = TODAY, TODAY
        # The head of 기획부 is 김영환 himself, who is now unlinked: nobody reachable.
        unreachable = await open_request(
            session, policyholder=lee, kind="callback", summary="연락 요청", deadlines=Deadlines()
        )
        assert unreachable.employee_id == kim.id
        queued = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.request_id == unreachable.id)
        )
        assert queued is None


async def test_a_failed_transaction_leaves_neither_request_nor_alert(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The request, its event and its alert commit together or not at all (also on SQLite)."""
    with pytest.raises(RuntimeError, match="crash"):
        async with session_scope(demo_sessions) as session:
            await open_request(
                session,
                policyholder=await _lee(session),
                kind="loan",
                summary="x",
                deadlines=Deadlines(),
            )
            raise RuntimeError("crash after the request was opened")
    async with session_scope(demo_sessions) as session:
        assert await session.scalar(select(func.count()).select_from(Request)) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_references_go_on_past_the_ten_thousandth_of_a_day(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(demo_sessions) as session:
        lee = await _lee(session)
        now = clock.now()
        for number in (9_998, 9_999):  # as if this day had already been busy
            session.add(
                Request(
                    reference=f"R-20261125-{number:04d}",
                    kind="callback",
                    policyholder_id=lee.id,
                    summary="전화 요청",
                    details={},
                    created_at=now,
                    updated_at=now,
                )
            )
        await session.flush()
        ten_thousandth = await open_request(
            session, policyholder=lee, kind="card", summary="카드", deadlines=Deadlines()
        )
        # "-10000" sorts before "-9999" as text: the next one must still be 10001.
        next_one = await open_request(
            session, policyholder=lee, kind="card", summary="카드", deadlines=Deadlines()
        )
    assert ten_thousandth.reference == "R-20261125-10000"
    assert next_one.reference == "R-20261125-10001"
