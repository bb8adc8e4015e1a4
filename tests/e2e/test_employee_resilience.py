"""The employee side under Telegram's real answers: a failing button answer or reply costs
nothing, the employee hears "전달했습니다" only once Telegram took the relay, and texts longer
than 4,096 characters arrive split, both ways."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot import texts
from bot.db import session_scope
from bot.db.models import OutboxMessage
from bot.services.message_limits import TELEGRAM_MAX
from bot.telegram import employee as employee_ui
from tests.auxil.fake_telegram import utf16_length
from tests.auxil.staff import StaffPool, holder_of, link_by_invite
from tests.e2e.conftest import Customer, SessionWorld, stored_request
from tests.e2e.test_employee_flow import callback_request, press_employee, wait_for_edit

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

EMPLOYEE_APOLOGIES = (texts.ERROR_STORED, texts.ERROR_NOT_STORED)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def staff(world: SessionWorld) -> StaffPool:
    # Another department than test_employee_flow's, so neither module runs short of people.
    return await StaffPool.load(world.stack.sessions, department="영업지원부")


async def _employee_with_customer(
    world: SessionWorld, staff: StaffPool
) -> tuple[int, str, Customer]:
    telegram, sessions = world.stack.telegram, world.stack.sessions
    owner = staff.take()
    chat = await link_by_invite(telegram, sessions, owner.id)
    customer = Customer(telegram, await holder_of(sessions, owner.id))
    await customer.verify()
    return chat, owner.display_name, customer


@pytest.mark.parametrize("kind", ["server_error", "timeout", "flood", "cant_edit"])
async def test_a_failing_answer_to_an_alert_button_costs_nothing(
    world: SessionWorld, staff: StaffPool, kind: str
) -> None:
    telegram = world.stack.telegram
    chat, name, customer = await _employee_with_customer(world, staff)
    reference = await callback_request(customer)
    alert = await telegram.wait_for_message(chat, lambda m: reference in m.text, timeout=15)
    before = len(telegram.sent(chat))
    fault = telegram.fail("answerCallbackQuery", kind, times=None, hang=6.0)
    try:
        await press_employee(telegram, chat, alert, "접수")
        acked = await telegram.wait_for_message(
            chat, lambda m: "요청을 접수했습니다" in m.text, since=before, timeout=15
        )
        await wait_for_edit(telegram, chat, alert, f"접수 — {name}")
        told = await telegram.wait_for_message(
            customer.user_id, lambda m: "접수됐어요" in m.text, timeout=15
        )
    finally:
        telegram.clear_faults()
    assert fault.fired >= 1
    assert reference in acked.text and reference in told.text
    assert not any(
        apology in m.text for m in telegram.sent(chat)[before:] for apology in EMPLOYEE_APOLOGIES
    )
    assert (await stored_request(world, reference)).status == "acknowledged"


async def test_an_answer_telegram_refuses_now_arrives_from_the_outbox(
    world: SessionWorld, staff: StaffPool
) -> None:
    telegram = world.stack.telegram
    chat, _name, customer = await _employee_with_customer(world, staff)
    reference = await callback_request(customer)
    alert = await telegram.wait_for_message(chat, lambda m: reference in m.text, timeout=15)
    before = len(telegram.sent(chat))
    fault = telegram.fail("sendMessage", "server_error", chat_id=chat, times=1)
    await press_employee(telegram, chat, alert, "접수")
    acked = await telegram.wait_for_message(
        chat, lambda m: "요청을 접수했습니다" in m.text, since=before, timeout=15
    )
    assert fault.fired == 1 and reference in acked.text
    for _ in range(50):  # the worker marks the row just after Telegram took it
        async with session_scope(world.stack.sessions) as session:
            queued = await session.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.chat_id == chat, OutboxMessage.purpose == "bot_reply"
                )
            )
        if queued is not None and queued.status == "sent":
            break
        await asyncio.sleep(0.1)
    assert queued is not None and queued.status == "sent"


async def test_long_texts_are_split_both_ways_and_the_relay_is_confirmed(
    world: SessionWorld, staff: StaffPool
) -> None:
    telegram = world.stack.telegram
    chat, name, customer = await _employee_with_customer(world, staff)
    reference = await callback_request(customer)
    alert = await telegram.wait_for_message(chat, lambda m: reference in m.text, timeout=15)

    # The employee answers with a full 4,096 characters: with the signature it is longer.
    words = ("대출 상환 일정 안내드립니다. " * 300)[:TELEGRAM_MAX]
    ph_before, kim_before = len(telegram.sent(customer.user_id)), len(telegram.sent(chat))
    telegram.push_text(chat, words, reply_to_message_id=alert.message_id, first_name="직원")
    confirmed = await telegram.wait_for_message(
        chat,
        lambda m: customer.holder is not None and customer.holder.name in m.text,
        since=kim_before,
        timeout=15,
    )
    assert confirmed.text == employee_ui.RELAYED.format(policyholder=customer.holder.name)  # type: ignore[union-attr]
    parts = await telegram.wait_for_count(customer.user_id, ph_before + 2, timeout=15)
    relayed = parts[ph_before:]
    assert all(utf16_length(m.text) <= TELEGRAM_MAX for m in relayed)
    assert f"— 국제생명 {name}" in relayed[-1].text
    joined = "".join(m.text for m in relayed).replace("\n", "").replace(" ", "")
    assert words.replace(" ", "") in joined

    # The customer, now talking to the employee, answers at length: it reaches the employee.
    answer = "네 알겠습니다 " * 510  # 4,080 characters: too long once quoted in the relay
    kim_before = len(telegram.sent(chat))
    telegram.push_text(customer.user_id, answer)
    forwarded = await telegram.wait_for_count(chat, kim_before + 2, timeout=15)
    assert all(utf16_length(m.text) <= TELEGRAM_MAX for m in forwarded[kim_before:])
    assert reference in forwarded[kim_before].text


async def test_a_relay_telegram_refuses_now_is_reported_as_queued(
    world: SessionWorld, staff: StaffPool
) -> None:
    telegram = world.stack.telegram
    chat, _name, customer = await _employee_with_customer(world, staff)
    assert customer.holder is not None
    reference = await callback_request(customer)
    alert = await telegram.wait_for_message(chat, lambda m: reference in m.text, timeout=15)
    words = "내일 오전에 전화드릴게요."
    fault = telegram.fail("sendMessage", "server_error", chat_id=customer.user_id, times=1)
    kim_before = len(telegram.sent(chat))
    telegram.push_text(chat, words, reply_to_message_id=alert.message_id, first_name="직원")
    told = await telegram.wait_for_message(
        chat,
        lambda m: customer.holder is not None and customer.holder.name in m.text,
        since=kim_before,
        timeout=15,
    )
    assert fault.fired == 1
    assert told.text == employee_ui.RELAY_QUEUED.format(policyholder=customer.holder.name)
    # The outbox tries again (2 s later) and the customer gets the words after all.
    await telegram.wait_for_message(customer.user_id, lambda m: words in m.text, timeout=20)
