"""What the customer says is kept, what is wrong is refused — end to end with the real model.

One verified policyholder of 김영환 with two loanable policies goes through the tests of this
module in order (each leaves no form open); group chats use strangers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot import texts
from bot.actions import texts as action_texts
from bot.actions.sdk import Tracker
from bot.actions.server import sender_id_for
from bot.db import session_scope
from bot.db.models import Contact, Employee, Policy, Policyholder, Request, Verification
from bot.services.labels import won
from tests.auxil.stack import RASA_TOKEN
from tests.e2e.conftest import (
    KIM_CHAT_ID,
    Customer,
    HolderPool,
    SessionWorld,
    reference_in,
    stored_request,
    texts_of,
)
from tests.e2e.test_telegram_faults import APOLOGIES

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

WISH = "책 살 때도 할인되는 서비스가 있으면 좋겠어요"


def _calm(replies: str) -> None:
    for apology in APOLOGIES:
        assert apology not in replies


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def customer(world: SessionWorld, holders: HolderPool) -> AsyncIterator[Customer]:
    """A policyholder of 김영환 with two policies that allow loans, one below 20,000,000원."""
    async with session_scope(world.stack.sessions) as session:
        kim = await session.scalar(select(Employee).where(Employee.telegram_chat_id == KIM_CHAT_ID))
        assert kim is not None
        rows = await session.execute(
            select(Policyholder.id, func.count(Policy.id), func.min(Policy.loan_limit))
            .join(Policy, Policy.policyholder_id == Policyholder.id)
            .where(
                Policyholder.employee_id == kim.id,
                Policy.status == "active",
                Policy.loan_limit >= 100_000,
            )
            .group_by(Policyholder.id)
        )
        ids = {ph for ph, count, lowest in rows.tuples() if count >= 2 and lowest < 20_000_000}
    person = Customer(world.stack.telegram, holders.take_from(ids))
    await person.verify()
    yield person


async def _smallest_policy(world: SessionWorld, customer: Customer) -> Policy:
    assert customer.holder is not None
    async with session_scope(world.stack.sessions) as session:
        policy = await session.scalar(
            select(Policy)
            .where(
                Policy.policyholder_id == customer.holder.id,
                Policy.status == "active",
                Policy.loan_limit >= 100_000,
            )
            .order_by(Policy.loan_limit)
            .limit(1)
        )
    assert policy is not None
    return policy


async def _loans(world: SessionWorld, customer: Customer) -> list[Request]:
    assert customer.holder is not None
    async with session_scope(world.stack.sessions) as session:
        return list(
            await session.scalars(
                select(Request).where(
                    Request.policyholder_id == customer.holder.id, Request.kind == "loan"
                )
            )
        )


async def test_amount_in_the_first_message_is_checked_against_the_chosen_policy(
    world: SessionWorld, customer: Customer
) -> None:
    policy = await _smallest_policy(world, customer)
    choose = await customer.say("약관대출 2천만원 신청할게요")
    title = f"{policy.product} ({policy.number})"
    assert title in [t for t, _ in choose[-1].buttons], texts_of(choose)
    refused = await customer.press(choose[-1], title)
    said = texts_of(refused)
    assert "넘어요" in said and won(policy.loan_limit) in said, said
    assert "이대로 신청할까요" not in said and "20,000,000원" not in said
    assert "얼마를" in refused[-1].text  # the amount is asked again, for this policy

    confirm = await customer.say("10만원")
    assert "100,000원" in confirm[-1].text and "이대로 신청할까요" in confirm[-1].text
    done = await customer.press(confirm[-1], action_texts.LOAN_CONFIRM_YES)
    request = await stored_request(world, reference_in(done))
    assert request.details["amount"] == 100_000
    assert all(
        loan.details["amount"] <= policy.loan_limit for loan in await _loans(world, customer)
    )


async def test_a_button_pressed_twice_runs_once(world: SessionWorld, customer: Customer) -> None:
    telegram = world.stack.telegram
    policy = await _smallest_policy(world, customer)
    loans_before = len(await _loans(world, customer))
    choose = await customer.say("약관대출 받고 싶어요")
    data = dict(choose[-1].buttons)[f"{policy.product} ({policy.number})"]
    before = len(telegram.sent(customer.user_id))
    # A double tap: the second press reaches the bot before the buttons are gone.
    telegram.push_callback(customer.user_id, data, choose[-1].message_id)
    telegram.push_callback(customer.user_id, data, choose[-1].message_id)
    asked = await customer._settle(before)
    assert [m.text for m in asked].count(asked[-1].text) == 1 and "얼마를" in asked[-1].text
    _calm(texts_of(asked))
    await telegram.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("text") == texts.STALE_CHOICE
    )

    confirm = await customer.say("10만원")
    yes = dict(confirm[-1].buttons)[action_texts.LOAN_CONFIRM_YES]
    before = len(telegram.sent(customer.user_id))
    telegram.push_callback(customer.user_id, yes, confirm[-1].message_id)
    telegram.push_callback(customer.user_id, yes, confirm[-1].message_id)
    done = await customer._settle(before)
    _calm(texts_of(done))
    assert len(await _loans(world, customer)) == loans_before + 1  # one loan, not two
    assert texts_of(done).count("접수번호") == 1

    # Both second presses are in the ledger, marked as such.
    assert customer.holder is not None
    async with session_scope(world.stack.sessions) as session:
        stale = await session.scalar(
            select(func.count(Contact.id)).where(
                Contact.policyholder_id == customer.holder.id,
                Contact.text.like("%(이미 처리된 선택)"),
            )
        )
    assert stale == 2


async def test_an_old_message_button_is_answered_calmly(
    world: SessionWorld, customer: Customer
) -> None:
    telegram = world.stack.telegram
    loans_before = len(await _loans(world, customer))
    choose = await customer.say("약관대출 받고 싶어요")
    cancelled = await customer.say("취소할게요")
    assert "취소했어요" in cancelled[-1].text
    # Two days later the customer presses a policy on the old question, whose buttons Telegram
    # no longer lets the bot remove ("message can't be edited").
    telegram.age_message(choose[-1].message_id, hours=49)
    before = len(telegram.sent(customer.user_id))
    title = choose[-1].buttons[0][0]
    telegram.push_callback(customer.user_id, dict(choose[-1].buttons)[title], choose[-1].message_id)
    await telegram.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("text") == texts.STALE_CHOICE
    )
    after = telegram.sent(customer.user_id)[before:]
    _calm(texts_of(after))
    assert not any("얼마를" in m.text for m in after)  # the old step did not run again
    assert len(await _loans(world, customer)) == loans_before


async def test_an_edit_is_kept_but_is_not_a_new_turn(
    world: SessionWorld, customer: Customer
) -> None:
    telegram = world.stack.telegram
    assert customer.holder is not None
    wish = await customer.say(WISH)
    request = await stored_request(world, reference_in(wish))
    assert request.kind == "suggestion"
    original_id = telegram.last_user_message_id(customer.user_id)
    before = len(telegram.sent(customer.user_id))
    edit_update = telegram.push_edit(customer.user_id, original_id, WISH + " 꼭이요")
    noted = await customer._settle(before)
    assert [m.text for m in noted] == [texts.EDIT_NOTED]
    async with session_scope(world.stack.sessions) as session:
        suggestions = await session.scalar(
            select(func.count(Request.id)).where(
                Request.policyholder_id == customer.holder.id, Request.kind == "suggestion"
            )
        )
        edit = await session.scalar(
            select(Contact).where(Contact.telegram_update_id == edit_update)
        )
        assert edit is not None
        original = await session.get(Contact, edit.edit_of_id)
    assert suggestions == 1
    assert original is not None and original.text == WISH
    assert edit.text == texts.EDIT_LEDGER.format(text=WISH + " 꼭이요")
    assert edit.request_id == request.id and edit.intent is None


async def test_a_new_kind_of_booking_does_not_inherit_the_last_ones_answers(
    world: SessionWorld, customer: Customer
) -> None:
    await customer.say("아버지가 돌아가셨어요 장례 좀 도와주세요")
    await customer.say("내일")
    funeral = await customer.say("인천 남동구 가천장례식장")
    assert "이대로 요청할까요" in funeral[-1].text  # left at its confirmation

    step = await customer.say("다음주 토요일에 이사하는데 이사대행 신청할게요")
    answers = {"누구의": "본인", "날짜": "다음주 토요일", "어디로": "인천 연수구 송도동"}
    for _ in range(4):
        shown = texts_of(step)
        assert "가천장례식장" not in shown and "아버지" not in shown, shown
        if "이대로 요청할까요" in step[-1].text:
            break
        reply = next((a for key, a in answers.items() if key in step[-1].text), None)
        assert reply is not None, shown
        step = await customer.say(reply)
    confirm = step[-1].text
    assert "이사 서비스" in confirm and "본인" in confirm and "송도동" in confirm, confirm
    not_sent = await customer.press(step[-1], "아니요")
    assert "하지 않았어요" in texts_of(not_sent)


async def test_groups_are_pointed_to_the_private_chat(world: SessionWorld) -> None:
    telegram = world.stack.telegram
    stranger = Customer(telegram)
    group = -(1_000_000_000 + stranger.user_id)
    update = telegram.push_text(stranger.user_id, "/start", group_id=group)
    answer = await telegram.wait_for_message(group, timeout=15)
    assert answer.text == texts.PRIVATE_ONLY
    telegram.push_contact(stranger.user_id, "010-5512-3087", stranger.user_id, group_id=group)
    telegram.push_text(stranger.user_id, "620417", group_id=group)
    await telegram.wait_until_consumed()
    await telegram.wait_for_count(group, 1)
    assert len(telegram.sent(group)) == 1  # plain group messages are not answered
    async with session_scope(world.stack.sessions) as session:
        stored = await session.scalar(select(Contact).where(Contact.telegram_update_id == update))
        started = await session.get(Verification, stranger.user_id)
        group_chats = await session.scalar(
            select(func.count(Policyholder.id)).where(Policyholder.telegram_chat_id == group)
        )
    assert stored is not None and stored.text == texts.GROUP_LEDGER.format(text="/start")
    assert started is None and group_chats == 0


async def test_rasa_hands_each_message_its_ledger_row(
    world: SessionWorld, customer: Customer
) -> None:
    """The actions learn which stored message they answer (``metadata.turn``) — the key of the
    one-request-per-turn guard — from the tracker Rasa sends them."""
    assert customer.holder is not None
    await customer.say("고마워요")
    async with session_scope(world.stack.sessions) as session:
        said = await session.scalar(
            select(Contact.id)
            .where(Contact.policyholder_id == customer.holder.id, Contact.direction == "in")
            .order_by(Contact.id.desc())
            .limit(1)
        )
    async with httpx.AsyncClient(
        base_url=world.rasa.url,
        params={"token": RASA_TOKEN},  # Rasa's API wants its token
    ) as client:
        response = await client.get(f"/conversations/{sender_id_for(customer.holder.id)}/tracker")
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    last_user = next(e for e in reversed(events) if e["event"] == "user")
    assert Tracker.from_dict({"events": [last_user]}).turn == said
