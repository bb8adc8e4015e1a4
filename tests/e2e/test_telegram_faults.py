"""Telegram failing the way it really does, on the calls that only decorate a conversation.

The chat action (typing…), removing a pressed button's keyboard and answering the callback
query are cosmetic: whatever Telegram answers to them, the customer's words are in the ledger,
the dialogue goes on and nobody is told "죄송해요, 잠시 문제가 생겼어요".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot import texts
from bot.actions import texts as action_texts
from bot.db import session_scope
from bot.db.models import Contact, Employee, Policy, Policyholder, Request
from tests.e2e.conftest import (
    KIM_CHAT_ID,
    Customer,
    HolderPool,
    SessionWorld,
    reference_in,
    stored_request,
    texts_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

APOLOGIES = (texts.ERROR_STORED, texts.ERROR_NOT_STORED, action_texts.PROBLEM.split("{")[0])
COSMETIC_METHODS = ("sendChatAction", "editMessageReplyMarkup", "answerCallbackQuery")
FAULT_KINDS = ("flood", "not_modified", "cant_edit", "blocked", "server_error", "timeout", "true")
CASES = [
    (method, kind)
    for method in COSMETIC_METHODS
    for kind in FAULT_KINDS
    # ``true`` instead of a Message only means something where a Message is expected.
    if kind != "true" or method.startswith("edit")
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def borrower(world: SessionWorld, holders: HolderPool) -> AsyncIterator[Customer]:
    """One verified policyholder of 김영환 with a policy that allows a loan, for every case."""
    async with session_scope(world.stack.sessions) as session:
        kim = await session.scalar(select(Employee).where(Employee.telegram_chat_id == KIM_CHAT_ID))
        assert kim is not None
        ids = set(
            await session.scalars(
                select(Policyholder.id)
                .join(Policy, Policy.policyholder_id == Policyholder.id)
                .where(
                    Policyholder.employee_id == kim.id,
                    Policy.status == "active",
                    Policy.loan_limit >= 1_000_000,
                )
            )
        )
    customer = Customer(world.stack.telegram, holders.take_from(ids))
    await customer.verify()
    yield customer


def _no_apology(replies: str) -> None:
    for apology in APOLOGIES:
        assert apology not in replies


async def loan_conversation(customer: Customer) -> tuple[list[str], str]:
    """Ask for a loan, pick a policy if asked, give an amount, confirm; return what was said
    (as the ledger shows it) and the request's reference."""
    said = ["약관대출 받고 싶어요"]
    replies = await customer.say(said[0])
    _no_apology(texts_of(replies))
    if replies[-1].buttons:  # more than one policy: choose the first
        title = replies[-1].buttons[0][0]
        replies = await customer.press(replies[-1], title)
        said.append(f"[버튼] {title}")
        _no_apology(texts_of(replies))
    assert "얼마를" in replies[-1].text, texts_of(replies)
    said.append("50만원")
    confirm = await customer.say("50만원")
    _no_apology(texts_of(confirm))
    assert "이대로 신청할까요" in confirm[-1].text, texts_of(confirm)
    done = await customer.press(confirm[-1], action_texts.LOAN_CONFIRM_YES)
    said.append(f"[버튼] {action_texts.LOAN_CONFIRM_YES}")
    _no_apology(texts_of(done))
    return said, reference_in(done)


@pytest.mark.parametrize(("method", "kind"), CASES, ids=[f"{m}-{k}" for m, k in CASES])
async def test_cosmetic_call_failing_costs_nothing(
    world: SessionWorld, borrower: Customer, method: str, kind: str
) -> None:
    telegram = world.stack.telegram
    assert borrower.holder is not None
    async with session_scope(world.stack.sessions) as session:
        first_new = await session.scalar(select(Contact.id).order_by(Contact.id.desc()).limit(1))
    fault = telegram.fail(method, kind, chat_id=None, times=None, retry_after=5, hang=6.0)
    try:
        said, reference = await loan_conversation(borrower)
    finally:
        telegram.clear_faults()
    assert fault.fired >= 1, f"{method} was never called, so the fault never happened"

    request = await stored_request(world, reference)
    assert request.kind == "loan" and request.details["amount"] == 500_000
    async with session_scope(world.stack.sessions) as session:
        inbound = list(
            await session.scalars(
                select(Contact.text)
                .where(
                    Contact.policyholder_id == borrower.holder.id,
                    Contact.direction == "in",
                    Contact.id > (first_new or 0),
                )
                .order_by(Contact.id)
            )
        )
        opened = list(
            await session.scalars(
                select(Request.reference).where(
                    Request.policyholder_id == borrower.holder.id, Request.kind == "loan"
                )
            )
        )
    assert inbound == said
    assert opened.count(reference) == 1


async def test_a_reply_telegram_refuses_now_arrives_from_the_outbox(
    world: SessionWorld, borrower: Customer
) -> None:
    """Not cosmetic: the answer itself. Refused with a 500, it waits in the outbox (which
    retries) instead of the turn failing and the customer getting an apology."""
    telegram = world.stack.telegram
    assert borrower.holder is not None
    fault = telegram.fail("sendMessage", "server_error", chat_id=borrower.user_id, times=1)
    replies = await borrower.say("내 보험 뭐 있는지 알려주세요")
    assert fault.fired == 1
    assert "KL-" in replies[-1].text
    _no_apology(texts_of(replies))
    # The ledger row of the answer learns its Telegram message id from the outbox (just after
    # Telegram took it).
    for _ in range(50):
        async with session_scope(world.stack.sessions) as session:
            answer = await session.scalar(
                select(Contact)
                .where(Contact.policyholder_id == borrower.holder.id, Contact.direction == "out")
                .order_by(Contact.id.desc())
                .limit(1)
            )
        assert answer is not None
        if answer.telegram_message_id is not None:
            break
        await asyncio.sleep(0.1)
    assert answer.telegram_message_id == replies[-1].message_id
