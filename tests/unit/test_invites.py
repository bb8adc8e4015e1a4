"""Employee invite codes: one use, 72 hours, clear answers."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, FrozenClock, set_clock
from bot.db.engine import session_scope
from bot.db.models import Employee
from bot.services.invites import InviteOutcome, create_invite, invite_link, redeem_invite
from tests.auxil.employees import build_org, freeze


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


async def _invite(sessions: async_sessionmaker[AsyncSession], employee_id: int) -> str:
    async with session_scope(sessions) as session:
        return (await create_invite(session, employee_id=employee_id)).code


async def _redeem(
    sessions: async_sessionmaker[AsyncSession], code: str, chat: int
) -> InviteOutcome:
    async with session_scope(sessions) as session:
        return (await redeem_invite(session, code=code, chat_id=chat)).outcome


async def test_link_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    org = await build_org(sessions, link=False)
    code = await _invite(sessions, org.owner_id)
    link = invite_link("milchak_bot", code)
    assert link == f"https://t.me/milchak_bot?start=emp-{code}"
    assert len(f"emp-{code}") <= 64 and all(c.isalnum() or c in "-_" for c in code)
    assert await _redeem(sessions, code, 777) == InviteOutcome.LINKED
    assert await _redeem(sessions, code, 777) == InviteOutcome.ALREADY_LINKED
    assert await _redeem(sessions, code, 778) == InviteOutcome.USED
    async with sessions() as session:
        owner = await session.get(Employee, org.owner_id)
        assert owner is not None and owner.telegram_chat_id == 777


async def test_expired_and_unknown(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    org = await build_org(sessions, link=False)
    code = await _invite(sessions, org.owner_id)
    frozen.advance(timedelta(hours=72))
    assert await _redeem(sessions, code, 777) == InviteOutcome.EXPIRED
    assert await _redeem(sessions, "nope", 777) == InviteOutcome.UNKNOWN
    async with session_scope(sessions) as session:
        result = await redeem_invite(session, code="nope", chat_id=777)
        assert "유효하지 않은 초대 링크" in result.message


async def test_chat_already_belongs_to_another_employee(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions, link=False)
    first = await _invite(sessions, org.owner_id)
    second = await _invite(sessions, org.deputy_id)
    assert await _redeem(sessions, first, 777) == InviteOutcome.LINKED
    async with session_scope(sessions) as session:
        result = await redeem_invite(session, code=second, chat_id=777)
        assert result.outcome == InviteOutcome.CHAT_TAKEN
        assert "박민수" in result.message
    assert await _redeem(sessions, second, 778) == InviteOutcome.LINKED  # still unused


async def test_unknown_employee(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessions) as session:
        with pytest.raises(LookupError):
            await create_invite(session, employee_id=999)
