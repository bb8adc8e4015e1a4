"""The policyholder-side hook: which texts belong to the employee workspace."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, FrozenClock, set_clock
from bot.db.engine import session_scope
from bot.db.models import Employee, OutboxMessage, Policyholder, Request
from bot.services import casework, ratings, relay
from bot.services.ledger import record_contact
from bot.services.relay import consume_policyholder_text
from bot.services.sla import Deadlines
from tests.auxil.employees import Org, build_org, freeze, new_request


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


async def _says(sessions: async_sessionmaker[AsyncSession], org: Org, text: str) -> bool:
    async with session_scope(sessions) as session:
        ph = await session.get(Policyholder, org.policyholder_id)
        assert ph is not None
        contact = await record_contact(
            session, direction="in", sender="policyholder", text=text, policyholder_id=ph.id
        )
        return await consume_policyholder_text(
            session, policyholder=ph, text=text, contact_id=contact.id
        )


async def _relay(sessions: async_sessionmaker[AsyncSession], org: Org, request_id: int) -> None:
    async with session_scope(sessions) as session:
        request = await session.get(Request, request_id)
        owner = await session.get(Employee, org.owner_id)
        assert request is not None and owner is not None
        await relay.relay_to_policyholder(session, request=request, employee=owner, text="네")


async def test_nothing_pending_means_the_bot_answers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    await new_request(sessions, org)  # a request alone does not pause the bot
    assert not await _says(sessions, org, "대출 이자가 얼마예요?")


async def test_handover_ends_the_handoff(sessions: async_sessionmaker[AsyncSession]) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    await _relay(sessions, org, request.id)
    assert await _says(sessions, org, "언제 오세요?")
    async with session_scope(sessions) as session:
        req = await session.get(Request, request.id)
        owner = await session.get(Employee, org.owner_id)
        assert req is not None and owner is not None
        await casework.hand_over(session, request=req, employee=owner, deadlines=Deadlines())
    assert not await _says(sessions, org, "여보세요?")


async def test_rating_comment_window_expires(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    async with session_scope(sessions) as session:
        req = await session.get(Request, request.id)
        owner = await session.get(Employee, org.owner_id)
        ph = await session.get(Policyholder, org.policyholder_id)
        assert req is not None and owner is not None and ph is not None
        await casework.resolve(session, request=req, employee=owner)
        await ratings.rate(session, request=req, policyholder=ph, stars=3)
    frozen.advance(timedelta(minutes=31))
    assert not await _says(sessions, org, "보험료 납입일이 언제예요?")  # not a comment any more
    async with sessions() as session:
        req = await session.get(Request, request.id)
        ph = await session.get(Policyholder, org.policyholder_id)
        assert req is not None and ph is not None
        assert req.rating_comment is None and ph.rating_pending_request_id is None


async def test_forwarded_text_reaches_the_current_assignee(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    await _relay(sessions, org, request.id)
    assert await _says(sessions, org, "주민번호 620417-2345678 필요하세요?")
    async with sessions() as session:
        last = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert last is not None and last.purpose == "relay_in" and last.employee_id == org.owner_id
        assert "2345678" not in last.text  # masked before it is stored


async def test_a_reply_names_its_request_before_the_send_is_recorded(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Under load an employee can reply to an alert before Telegram's answer to the send (its
    message id) is stored: the reference on the alert's first line still finds the request,
    and only there (a reference inside a customer's quoted words does not count)."""
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    other = await new_request(sessions, org)
    async with session_scope(sessions) as session:
        owner = await session.get(Employee, org.owner_id)
        assert owner is not None and owner.telegram_chat_id is not None
        chat = owner.telegram_chat_id
        alert = f"[이사] {request.reference}\n이영숙 님\n참고: {other.reference}"
        found = await relay.request_for_message(session, chat_id=chat, message_id=77, text=alert)
        assert found is not None and found.id == request.id
        quoted = f"💬 이영숙 님:\n{other.reference} 건은 어떻게 됐나요?"
        assert (
            await relay.request_for_message(session, chat_id=chat, message_id=78, text=quoted)
            is None
        )
        assert await relay.request_for_message(session, chat_id=chat, message_id=79) is None
