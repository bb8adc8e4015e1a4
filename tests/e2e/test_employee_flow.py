"""The employee workspace end to end: invite links, alerts with buttons, the two-way relay with
the bot staying silent, ratings, escalation under a controllable clock, Telegram 429/403 answers
and employee commands refused to policyholders — through the fake Bot API and the real Rasa
model, on the shared e2e database.

Every test talks as its own policyholder, and employees other than 김영환 (900001) and 김미정
(900101) are linked per test to chats of their own; messages are always looked up by chat id
and request reference, never counted across the shared fake or database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select

import bot.clock
from bot.clock import FrozenClock, set_clock
from bot.db import session_scope
from bot.db.models import Contact, Employee, OutboxMessage, Request, RequestEvent
from bot.telegram import employee as employee_ui
from bot.telegram.request_buttons import BUTTON_REFUSED
from tests.auxil.fake_telegram import FakeTelegram, SentMessage
from tests.auxil.staff import (
    LINKED_TEXT,
    StaffPool,
    employee_by_chat,
    holder_of,
    invite_code,
    link_by_invite,
    open_invite,
)
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

DEPUTY_CHAT_ID = 900101  # 김미정 차장, 김영환's deputy
SILENCE_SECONDS = 2.5  # long enough for Rasa to have answered (it answers in well under a second)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def staff(world: SessionWorld) -> StaffPool:
    return await StaffPool.load(world.stack.sessions)


async def events_of(world: SessionWorld, request_id: int) -> list[RequestEvent]:
    async with session_scope(world.stack.sessions) as session:
        rows = await session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == request_id)
            .order_by(RequestEvent.id)
        )
        return list(rows.all())


async def press_employee(
    telegram: FakeTelegram, chat_id: int, alert: SentMessage, title: str
) -> None:
    """The employee presses an inline button on an alert."""
    data = dict(alert.buttons)[title]
    telegram.push_callback(chat_id, data, alert.message_id, first_name="직원")


async def wait_for_edit(
    telegram: FakeTelegram, chat_id: int, alert: SentMessage, marker: str
) -> SentMessage:
    """Wait until the alert's text has been edited to contain ``marker``."""
    return await telegram.wait_for_message(
        chat_id, lambda m: m.message_id == alert.message_id and marker in m.text, timeout=15
    )


async def callback_request(customer: Customer) -> str:
    """A short real dialogue that opens a request: ask for a call from the employee."""
    offer = await customer.say("담당자랑 통화하고 싶어요")
    assert "연락" in texts_of(offer), texts_of(offer)
    done = await customer.press(offer[-1], "네, 연락 주세요")
    return reference_in(done)


# --- 1. invite → link -----------------------------------------------------------------------------
async def test_invite_links_the_employee_once(world: SessionWorld, staff: StaffPool) -> None:
    telegram, sessions = world.stack.telegram, world.stack.sessions
    member = staff.take()
    chat_id, stranger = StaffPool.new_chat_id(), StaffPool.new_chat_id()
    code = await invite_code(sessions, member.id)

    linked = await open_invite(telegram, chat_id, code)
    assert LINKED_TEXT in linked.text and member.name in linked.text
    assert (await employee_by_chat(sessions, chat_id)).id == member.id
    scope = json.dumps({"type": "chat", "chat_id": chat_id}, sort_keys=True)
    await telegram.wait_for_call(
        "setMyCommands", lambda c: c.params.get("scope", {}).get("chat_id") == chat_id
    )
    assert {"mine", "open", "visit", "call", "away"} <= {
        c["command"] for c in telegram.commands[scope]
    }

    used = await open_invite(telegram, stranger, code)
    assert "이미 사용된 초대 링크" in used.text
    unknown = await open_invite(telegram, stranger, "no-such-code-123")
    assert "유효하지 않은 초대 링크" in unknown.text
    expired_code = await invite_code(sessions, staff.take().id, ttl=timedelta(seconds=-1))
    expired = await open_invite(telegram, stranger, expired_code)
    assert "유효기간" in expired.text
    async with session_scope(sessions) as session:
        taken = await session.scalar(select(Employee).where(Employee.telegram_chat_id == stranger))
    assert taken is None, "a refused invite must not link the chat"

    # The linked employee now has the workspace: /mine lists their 25 policyholders, and the
    # command and its answer are in the ledger (as the employee's, with no policyholder).
    before = len(telegram.sent(chat_id))
    update_id = telegram.push_text(chat_id, "/mine", first_name="직원")
    mine = await telegram.wait_for_message(chat_id, since=before, timeout=15)
    assert f"{member.display_name}님 담당 계약자 25명" in mine.text
    assert mine.text.count("\n") == 25
    async with session_scope(sessions) as session:
        rows = list(
            await session.scalars(
                select(Contact).where(Contact.employee_id == member.id).order_by(Contact.id)
            )
        )
    command = next(c for c in rows if c.telegram_update_id == update_id)
    assert (command.direction, command.sender, command.text) == ("in", "employee", "/mine")
    answer = next(c for c in rows if c.id > command.id and c.direction == "out")
    assert answer.sender == "bot" and answer.text == mine.text
    assert command.policyholder_id is None and answer.policyholder_id is None


# --- 2. loan → acknowledge → relay both ways → resolve → rating ----------------------------------
async def test_loan_request_acknowledged_relayed_resolved_and_rated(
    world: SessionWorld, holders: HolderPool
) -> None:
    telegram, sessions = world.stack.telegram, world.stack.sessions
    holder = holders.take("정민수")  # one policy, loan limit 2,500,000원
    customer = Customer(telegram, holder)
    ph = customer.user_id
    await customer.verify()
    kim_before = len(telegram.sent(KIM_CHAT_ID))

    step = await customer.say("약관대출 받고 싶어요")
    if step[-1].buttons and "KL-" in step[-1].buttons[0][0]:
        step = await customer.press(step[-1], step[-1].buttons[0][0])
    assert "2,500,000원" in texts_of(step)
    confirm = await customer.say("2백만원 빌려주세요")
    assert "2,000,000원" in confirm[-1].text
    done = await customer.press(confirm[-1], "네, 신청할게요")
    reference = reference_in(done)
    request = await stored_request(world, reference)
    assert request.kind == "loan"

    # The alert reaches 김영환 with the four buttons.
    alert = await telegram.wait_for_message(
        KIM_CHAT_ID, lambda m: reference in m.text, since=kim_before, timeout=15
    )
    assert holder.name in alert.text and "2,000,000원" in alert.text
    assert [t for t, _ in alert.buttons] == ["접수", "답장", "완료", "이관"]

    # 접수: the alert is edited, the policyholder is told.
    ph_before = len(telegram.sent(ph))
    await press_employee(telegram, KIM_CHAT_ID, alert, "접수")
    acked = await wait_for_edit(telegram, KIM_CHAT_ID, alert, "접수 — 김영환 기획부장")
    assert [t for t, _ in acked.buttons] == ["답장", "완료", "이관"]
    told = await telegram.wait_for_message(ph, lambda m: "접수됐어요" in m.text, since=ph_before)
    assert reference in told.text and "김영환 기획부장" in told.text

    # 답장 button, then plain text → the policyholder gets it signed.
    kim_before = len(telegram.sent(KIM_CHAT_ID))
    await press_employee(telegram, KIM_CHAT_ID, acked, "답장")
    prompt = await telegram.wait_for_message(
        KIM_CHAT_ID, lambda m: "보낼 내용을 입력" in m.text, since=kim_before
    )
    assert reference in prompt.text and holder.name in prompt.text
    ph_before = len(telegram.sent(ph))
    first_words = "정민수 고객님, 대출금은 오늘 오후에 입금됩니다."
    telegram.push_text(KIM_CHAT_ID, first_words, first_name="영환")
    relayed = await telegram.wait_for_message(
        ph, lambda m: first_words in m.text, since=ph_before, timeout=15
    )
    assert "— 국제생명 김영환 기획부장" in relayed.text

    # A Telegram reply to the alert is relayed too.
    ph_before = len(telegram.sent(ph))
    second_words = "입금 계좌는 등록하신 국민은행 계좌예요."
    telegram.push_text(
        KIM_CHAT_ID, second_words, reply_to_message_id=alert.message_id, first_name="영환"
    )
    relayed_2 = await telegram.wait_for_message(
        ph, lambda m: second_words in m.text, since=ph_before, timeout=15
    )
    assert "— 국제생명 김영환 기획부장" in relayed_2.text

    # The policyholder answers: the employee gets it, the bot (Rasa) says nothing.
    kim_before = len(telegram.sent(KIM_CHAT_ID))
    ph_before = len(telegram.sent(ph))
    answer_words = "네 고맙습니다 대출 받고 싶어요 입금 확인할게요"  # would make Rasa talk
    answer_update = telegram.push_text(ph, answer_words)
    relay_in = await telegram.wait_for_message(
        KIM_CHAT_ID, lambda m: answer_words in m.text, since=kim_before, timeout=15
    )
    assert reference in relay_in.text and holder.name in relay_in.text
    await asyncio.sleep(SILENCE_SECONDS)
    assert telegram.sent(ph)[ph_before:] == [], "the bot answered during the handoff"

    # The employee replies to the forwarded message: that reaches the policyholder as well.
    third_words = "네, 입금되면 다시 알려드릴게요."
    telegram.push_text(
        KIM_CHAT_ID, third_words, reply_to_message_id=relay_in.message_id, first_name="영환"
    )
    await telegram.wait_for_message(ph, lambda m: third_words in m.text, since=ph_before)

    # 완료: the alert loses its buttons, the policyholder is told and asked for a rating.
    ph_before = len(telegram.sent(ph))
    await press_employee(telegram, KIM_CHAT_ID, acked, "완료")
    await wait_for_edit(telegram, KIM_CHAT_ID, alert, "완료 — 김영환 기획부장")
    assert telegram.message(alert.message_id).buttons == []
    resolved = await telegram.wait_for_message(
        ph, lambda m: "처리됐어요" in m.text, since=ph_before, timeout=15
    )
    assert [t for t, _ in resolved.buttons] == [f"{n}⭐" for n in range(1, 6)]

    thanks = await customer.press(resolved, "4⭐")
    assert "별점 4점" in texts_of(thanks)
    comment = "설명이 친절해서 좋았어요"
    kim_before = len(telegram.sent(KIM_CHAT_ID))
    after_comment = await customer.say(comment)
    assert "소중한 의견" in texts_of(after_comment)
    rated = await telegram.wait_for_message(
        KIM_CHAT_ID, lambda m: "평가" in m.text and reference in m.text, since=kim_before
    )
    assert "4점" in rated.text and comment in rated.text

    request = await stored_request(world, reference)
    assert request.status == "resolved" and request.rating == 4
    assert request.rating_comment == comment
    actions = [e.action for e in await events_of(world, request.id)]
    for action in ("acknowledged", "replied", "resolved", "rated", "rating_comment"):
        assert action in actions, actions

    # The bot is back: Rasa answers the policyholder again.
    greeting = await customer.say("안녕하세요")
    assert holder.name in greeting[-1].text

    # The ledger: every relayed message is a contact linked to the request.
    async with session_scope(sessions) as session:
        ledger = list(
            await session.scalars(
                select(Contact).where(Contact.policyholder_id == holder.id).order_by(Contact.id)
            )
        )
    out_relays = [c for c in ledger if c.sender == "employee" and c.direction == "out"]
    assert len(out_relays) == 3
    for words in (first_words, second_words, third_words):
        row = next(c for c in out_relays if words in c.text)
        assert row.request_id == request.id and row.employee_id == request.employee_id
    inbound = next(c for c in ledger if c.telegram_update_id == answer_update)
    assert inbound.direction == "in" and inbound.request_id == request.id
    assert inbound.intent is None, "the handoff message must not have gone to Rasa"
    comment_row = next(c for c in ledger if c.text == comment)
    assert comment_row.request_id == request.id


# --- 3. escalation under a controllable clock ---------------------------------------------------
@pytest_asyncio.fixture(loop_scope="session")
async def frozen_clock() -> AsyncIterator[FrozenClock]:
    """A clock the test moves by hand. It starts five hours back and the test moves it about
    four, so everything stamped meanwhile is already due for the real clock once restored."""
    previous = bot.clock.clock
    frozen = FrozenClock(datetime.now(UTC) - timedelta(hours=5))
    set_clock(frozen)
    try:
        yield frozen
    finally:
        set_clock(previous)


async def test_unacknowledged_funeral_escalates_to_deputy_then_head(
    world: SessionWorld, staff: StaffPool, frozen_clock: FrozenClock
) -> None:
    telegram, sessions = world.stack.telegram, world.stack.sessions
    deputy = await employee_by_chat(sessions, DEPUTY_CHAT_ID)
    owner = staff.take(deputy_id=deputy.id)  # owner → 김미정 차장 → 김영환 기획부장
    owner_chat = await link_by_invite(telegram, sessions, owner.id)
    customer = Customer(telegram, await holder_of(sessions, owner.id))
    await customer.verify()
    deputy_before = len(telegram.sent(DEPUTY_CHAT_ID))
    head_before = len(telegram.sent(KIM_CHAT_ID))

    await customer.say("아버지가 돌아가셨어요 장례 좀 도와주세요")
    await customer.say("내일")
    confirm = await customer.say("인천 길병원 장례식장")
    reference = reference_in(await customer.press(confirm[-1], "네"))
    request = await stored_request(world, reference)
    assert request.kind == "funeral" and request.urgent
    await telegram.wait_for_message(owner_chat, lambda m: reference in m.text, timeout=15)

    def alerts_to(chat_id: int, since: int) -> list[SentMessage]:
        return [m for m in telegram.sent(chat_id)[since:] if reference in m.text]

    worker_rounds = 3 * world.stack.settings.escalation_interval + 0.5
    frozen_clock.advance(timedelta(minutes=59))
    await asyncio.sleep(worker_rounds)
    assert alerts_to(DEPUTY_CHAT_ID, deputy_before) == [], "escalated before the deadline"

    frozen_clock.advance(timedelta(minutes=2))
    to_deputy = await telegram.wait_for_message(
        DEPUTY_CHAT_ID, lambda m: reference in m.text, since=deputy_before, timeout=15
    )
    assert "접수 기한(1시간)" in to_deputy.text and owner.display_name in to_deputy.text
    assert [t for t, _ in to_deputy.buttons] == ["접수", "답장", "완료", "이관"]
    assert alerts_to(KIM_CHAT_ID, head_before) == []

    frozen_clock.advance(timedelta(minutes=61))
    to_head = await telegram.wait_for_message(
        KIM_CHAT_ID, lambda m: reference in m.text, since=head_before, timeout=15
    )
    assert "접수 기한(1시간)" in to_head.text and "김미정 차장" in to_head.text

    # Nothing is sent twice, however long it stays unacknowledged.
    frozen_clock.advance(timedelta(hours=2))
    await asyncio.sleep(worker_rounds)
    assert len(alerts_to(DEPUTY_CHAT_ID, deputy_before)) == 1
    assert len(alerts_to(KIM_CHAT_ID, head_before)) == 1
    request = await stored_request(world, reference)
    assert request.escalation_level == 2 and request.due_at is None
    kim = await employee_by_chat(sessions, KIM_CHAT_ID)
    assert request.employee_id == kim.id
    escalations = [e for e in await events_of(world, request.id) if e.action == "escalated"]
    assert len(escalations) == 2
    assert "김미정" in escalations[0].note and "김영환" in escalations[1].note

    # The head takes it from the escalation alert; the policyholder hears about it.
    ph_before = len(telegram.sent(customer.user_id))
    await press_employee(telegram, KIM_CHAT_ID, to_head, "접수")
    await wait_for_edit(telegram, KIM_CHAT_ID, to_head, "접수 — 김영환 기획부장")
    await telegram.wait_for_message(
        customer.user_id, lambda m: "접수됐어요" in m.text, since=ph_before, timeout=15
    )


# --- 4. Telegram errors on delivery ---------------------------------------------------------------
async def test_flood_control_on_alert_and_edit_is_retried(
    world: SessionWorld, staff: StaffPool
) -> None:
    telegram, sessions = world.stack.telegram, world.stack.sessions
    kim = await employee_by_chat(sessions, KIM_CHAT_ID)
    owner = staff.take(not_deputy_id=(await employee_by_chat(sessions, DEPUTY_CHAT_ID)).id)
    chat = await link_by_invite(telegram, sessions, owner.id)
    customer = Customer(telegram, await holder_of(sessions, owner.id))
    await customer.verify()

    telegram.fail_next("sendMessage", chat, status=429, retry_after=1)
    reference = await callback_request(customer)
    alert = await telegram.wait_for_message(chat, lambda m: reference in m.text, timeout=15)
    attempts = [
        c
        for c in telegram.calls_to("sendMessage")
        if c.params.get("chat_id") == chat and reference in str(c.params.get("text"))
    ]
    assert len(attempts) == 2, "one refused with 429, then one delivered"
    assert attempts[1].at - attempts[0].at >= 0.9, "retried before retry_after"
    assert len([m for m in telegram.sent(chat) if reference in m.text]) == 1
    request = await stored_request(world, reference)
    assert request.employee_id == owner.id != kim.id
    # The worker marks the row sent just after Telegram answered: give it a moment.
    for _ in range(50):
        async with session_scope(sessions) as session:
            row = await session.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.request_id == request.id, OutboxMessage.chat_id == chat
                )
            )
        if row is not None and row.status == "sent":
            break
        await asyncio.sleep(0.1)
    assert row is not None and row.status == "sent" and row.telegram_message_id == alert.message_id

    # The alert's re-edit after 접수 meets flood control too, and still happens.
    telegram.fail_next("editMessageText", chat, status=429, retry_after=1)
    await press_employee(telegram, chat, alert, "접수")
    await wait_for_edit(telegram, chat, alert, f"접수 — {owner.display_name}")
    edits = [c for c in telegram.calls_to("editMessageText") if c.params.get("chat_id") == chat]
    assert len(edits) >= 2


async def test_blocked_employee_request_is_rerouted(world: SessionWorld, staff: StaffPool) -> None:
    telegram, sessions = world.stack.telegram, world.stack.sessions
    owner = staff.take()
    chat = await link_by_invite(telegram, sessions, owner.id)
    # Next in the chain: the owner's deputy when on Telegram (another test may have linked
    # them), else the department head 김영환.
    async with session_scope(sessions) as session:
        deputy = await session.get(Employee, owner.deputy_id) if owner.deputy_id else None
    if deputy is not None and deputy.telegram_chat_id is not None and not deputy.is_head:
        target_id, target_chat = deputy.id, deputy.telegram_chat_id
    else:
        target_id, target_chat = (await employee_by_chat(sessions, KIM_CHAT_ID)).id, KIM_CHAT_ID
    customer = Customer(telegram, await holder_of(sessions, owner.id))
    await customer.verify()
    target_before = len(telegram.sent(target_chat))

    telegram.block_chat(chat)
    try:
        reference = await callback_request(customer)
        rerouted = await telegram.wait_for_message(
            target_chat, lambda m: reference in m.text, since=target_before, timeout=15
        )
    finally:
        telegram.unblock_chat(chat)
    assert "텔레그램 차단" in rerouted.text and owner.display_name in rerouted.text
    assert [t for t, _ in rerouted.buttons] == ["접수", "답장", "완료", "이관"]
    assert not [m for m in telegram.sent(chat) if reference in m.text]

    request = await stored_request(world, reference)
    assert request.employee_id == target_id
    assert "rerouted" in [e.action for e in await events_of(world, request.id)]
    async with session_scope(sessions) as session:
        blocked = await session.get(Employee, owner.id)
        failed = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.request_id == request.id, OutboxMessage.chat_id == chat
            )
        )
    assert blocked is not None and blocked.telegram_blocked
    assert failed is not None and failed.status == "failed"
    assert (failed.last_error or "").startswith("403")


# --- 5. employee commands from a policyholder ------------------------------------------------------
async def test_policyholder_cannot_use_employee_commands(
    world: SessionWorld, holders: HolderPool
) -> None:
    telegram, sessions = world.stack.telegram, world.stack.sessions
    customer = Customer(telegram, holders.take())
    await customer.verify()
    for command in ("/mine", "/open", "/visit 1 방문했어요", "/away 2026-12-01 2026-12-05"):
        refused = await customer.say(command)
        assert [m.text for m in refused] == [employee_ui.REFUSED], command

    # An alert button pressed by someone who is not an employee does nothing.
    async with session_scope(sessions) as session:
        target = await session.scalar(
            select(Request).where(Request.status == "new").order_by(Request.id).limit(1)
        )
    assert target is not None
    update_id = telegram.push_callback(customer.user_id, f"req:done:{target.id}", 1)
    query = next(u for u in telegram.updates if u["update_id"] == update_id)["callback_query"]
    answer = await telegram.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query["id"]
    )
    assert answer.params.get("text") == BUTTON_REFUSED
    async with session_scope(sessions) as session:
        untouched = await session.get(Request, target.id)
    assert untouched is not None and untouched.status == "new"

    async with session_scope(sessions) as session:
        rows = list(
            await session.scalars(
                select(Contact).where(Contact.policyholder_id == customer.holder.id)  # type: ignore[union-attr]
            )
        )
    assert any(c.direction == "in" and c.text == "/mine" for c in rows)
    assert sum(c.direction == "out" and c.text == employee_ui.REFUSED for c in rows) == 4
