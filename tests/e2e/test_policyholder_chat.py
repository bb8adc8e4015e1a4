"""Korean conversations end to end: fake Telegram → the app → the real Rasa model → the database."""

import asyncio

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.db import session_scope
from bot.db.models import Contact, OutboxMessage
from tests.auxil.stack import app_stack, free_port
from tests.e2e.conftest import (
    KIM_CHAT_ID,
    REFERENCE,
    Customer,
    HolderPool,
    SessionWorld,
    holders_with_loanable_policies,
    reference_in,
    stored_request,
    texts_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_verified_loan_over_limit_then_routed_to_kim(
    world: SessionWorld, holders: HolderPool
) -> None:
    telegram = world.stack.telegram
    customer = Customer(telegram, holders.take("이영숙"))

    welcome = await customer.say("/start")
    assert "본인 확인" in welcome[-1].text
    assert welcome[-1].keyboard == [texts.SHARE_PHONE_BUTTON]

    someone_else = await customer.share_contact("010-5512-3087", owner=123)
    assert "본인의 전화번호로만" in someone_else[-1].text

    ask_birth = await customer.share_contact("+82 10-5512-3087")
    # Whose number it is stays unsaid until the birth date proves it.
    assert "생년월일" in ask_birth[0].text and "이영숙" not in texts_of(ask_birth)
    wrong = await customer.say("700101")
    assert "남은 횟수" in wrong[-1].text
    verified = await customer.say("620417")
    assert "김영환 기획부장" in verified[-1].text

    choose = await customer.say("약관대출 받고 싶어요")
    assert [title for title, _ in choose[-1].buttons] == [
        "무배당암보험 (KL-1994-000123)",
        "무배당종신보험 (KL-1996-004521)",
    ]
    ask_amount = await customer.press(choose[-1], "무배당암보험 (KL-1994-000123)")
    assert "8,000,000원" in ask_amount[-1].text
    over = await customer.say("9백만원")
    assert "넘어요" in texts_of(over)
    confirm = await customer.say("3백만원 빌려주세요")
    summary = confirm[-1].text
    assert "3,000,000원" in summary and "연 7.50%" in summary and "***-****-**3021" in summary
    done = await customer.press(confirm[-1], "네, 신청할게요")
    reference = reference_in(done)

    request = await stored_request(world, reference)
    assert request.kind == "loan" and request.details["amount"] == 3_000_000
    alert = await telegram.wait_for_message(KIM_CHAT_ID, lambda m: reference in m.text, timeout=15)
    assert "이영숙" in alert.text and "3,000,000원" in alert.text
    assert [title for title, _ in alert.buttons] == ["접수", "답장", "완료", "이관"]

    async with session_scope(world.stack.sessions) as session:
        ledger = list(
            await session.scalars(
                select(Contact)
                .where(Contact.policyholder_id == request.policyholder_id)
                .order_by(Contact.id)
            )
        )
    inbound = [c for c in ledger if c.direction == "in"]
    assert any(c.text == "9백만원" and c.intent for c in inbound)
    assert any(c.request_id == request.id and c.sender == "bot" for c in ledger)
    assert sum(c.direction == "out" for c in ledger) >= len(inbound)


async def test_unknown_number_and_lockout(world: SessionWorld, holders: HolderPool) -> None:
    customer = Customer(world.stack.telegram, holders.take())
    await customer.say("/start")
    unknown = await customer.share_contact("010-0000-0000")
    assert world.stack.settings.company_phone in unknown[-1].text
    await customer.share_contact(customer.holder.phone)  # type: ignore[union-attr]
    for _ in range(3):
        await customer.say("990101")
    locked = await customer.say("990101")
    assert "잠겼어요" in locked[-1].text
    still_locked = await customer.say(customer.holder.birth_date.strftime("%y%m%d"))  # type: ignore[union-attr]
    assert "잠겼어요" in still_locked[-1].text


async def test_nothing_is_served_before_verification(world: SessionWorld) -> None:
    customer = Customer(world.stack.telegram)
    reply = await customer.say("대출 받고 싶어요")
    assert "본인 확인" in reply[-1].text
    async with session_scope(world.stack.sessions) as session:
        stored = await session.scalar(
            select(Contact).where(
                Contact.telegram_user_id == customer.user_id, Contact.direction == "in"
            )
        )
    assert stored is not None and stored.text == "대출 받고 싶어요"


async def test_booking_ineligible_relation_then_wedding(
    world: SessionWorld, holders: HolderPool
) -> None:
    customer = Customer(world.stack.telegram, holders.take())
    await customer.verify()
    ask = await customer.say("이사 예약하고 싶어요")
    assert "이사" in ask[-1].text
    refused = await customer.say("시아버지예요")
    assert "직계존비속" in refused[-1].text and "시아버지" in refused[-1].text

    await customer.say("딸 결혼식 준비 할인 받고 싶어요")
    await customer.say("12월 20일")
    confirm = await customer.say("송도 컨벤시아 웨딩홀")
    assert "그린그린" in confirm[-1].text and "12월 20일" in confirm[-1].text
    done = await customer.press(confirm[-1], "네")
    reference = reference_in(done)
    assert "그린그린" in texts_of(done) and "02-555-0909" in texts_of(done)
    request = await stored_request(world, reference)
    assert request.kind == "wedding" and request.details["relation"] == "daughter"


async def test_funeral_is_urgent(world: SessionWorld, holders: HolderPool) -> None:
    customer = Customer(world.stack.telegram, holders.take())
    await customer.verify()
    await customer.say("아버지가 돌아가셨어요 장례 좀 도와주세요")
    await customer.say("내일")
    confirm = await customer.say("인천 길병원 장례식장")
    done = await customer.press(confirm[-1], "네")
    request = await stored_request(world, reference_in(done))
    assert request.kind == "funeral" and request.urgent
    assert "임종의 전화" in texts_of(done)


async def test_cancel_mid_form_and_switch_topic(world: SessionWorld, holders: HolderPool) -> None:
    customer = Customer(world.stack.telegram, holders.take())
    await customer.verify()
    await customer.say("대출 신청할래요")
    cancelled = await customer.say("취소할게요")
    assert "취소했어요" in cancelled[-1].text
    nothing = await customer.say("취소")
    assert "진행 중인 신청은 없어요" in nothing[-1].text

    categories = await customer.say("불만 접수하려고요")
    await customer.press(categories[-1], "보험금 지급")
    switched = await customer.say("국제국민카드 만들고 싶어요")
    assert "잠시 멈출게요" in texts_of(switched)
    card = await customer.press(switched[-1], "네, 신청할게요")
    assert (await stored_request(world, reference_in(card))).kind == "card"
    resumed = await customer.say("아까 불만 접수 계속할게요")
    assert "어떤 일" in texts_of(resumed)


async def test_complaint_policy_question_callback_suggestion(
    world: SessionWorld, holders: HolderPool
) -> None:
    customer = Customer(world.stack.telegram, holders.take())
    await customer.verify()
    greeting = await customer.say("안녕하세요")
    assert customer.holder and customer.holder.name in greeting[-1].text

    # What happened is kept; the category is chosen from the buttons.
    categories = await customer.say("보험금 청구한 지 한 달이 넘었는데 아직도 안 들어왔어요")
    complaint = await customer.press(categories[-1], "보험금 지급")
    request = await stored_request(world, reference_in(complaint))
    assert request.kind == "complaint" and request.details["category"] == "보험금 지급"
    assert request.details["text"] == "보험금 청구한 지 한 달이 넘었는데 아직도 안 들어왔어요"
    # The press that opened it and the answer that gave its reference are linked to it (the
    # action claimed the turn; the app reads the link back with the parse).
    async with session_scope(world.stack.sessions) as session:
        linked = (
            await session.execute(
                select(Contact.direction, Contact.text).where(Contact.request_id == request.id)
            )
        ).all()
    assert ("in", "[버튼] 보험금 지급") in linked
    assert any(direction == "out" and request.reference in text for direction, text in linked)

    policies = await customer.say("내 보험 뭐 있는지 알려주세요")
    assert "KL-" in policies[-1].text and "다음 납입일" in policies[-1].text

    offer = await customer.say("담당자랑 통화하고 싶어요")
    assert "김영환 기획부장" in offer[-1].text
    callback = await customer.press(offer[-1], "네, 연락 주세요")
    assert (await stored_request(world, reference_in(callback))).kind == "callback"

    wish = await customer.say("책 살 때도 할인되는 서비스가 있으면 좋겠어요")
    assert (await stored_request(world, reference_in(wish))).kind == "suggestion"

    thanks = await customer.say("고마워요")
    assert "천만에요" in thanks[-1].text
    bye = await customer.say("안녕히 계세요")
    assert "감사해요" in bye[-1].text


async def test_out_of_scope_is_passed_to_the_employee(
    world: SessionWorld, holders: HolderPool
) -> None:
    customer = Customer(world.stack.telegram, holders.take())
    await customer.verify()
    fallback = await customer.say("오늘 저녁 메뉴 뭐 먹을까")
    assert "담당 직원에게 전달" in fallback[-1].text
    passed = await customer.press(fallback[-1], "담당자에게 전달")
    request = await stored_request(world, reference_in(passed))
    assert request.kind == "question" and "저녁 메뉴" in request.summary

    await customer.say("주말에 등산 갈까 말까")
    declined = await customer.say("아니요 괜찮아요")
    assert "알겠어요" in declined[-1].text
    assert not REFERENCE.search(texts_of(declined))


async def test_bad_input_gets_korean_answers_and_is_stored(
    world: SessionWorld, holders: HolderPool
) -> None:
    telegram = world.stack.telegram
    customer = Customer(telegram, holders.take())
    await customer.verify()
    before = len(telegram.sent(customer.user_id))
    for push in (telegram.push_sticker, telegram.push_photo, telegram.push_voice):
        push(customer.user_id)
        await telegram.wait_for_count(customer.user_id, before + 1, timeout=15)
        before += 1
    telegram.push_location(customer.user_id, latitude=37.45, longitude=126.73)
    await telegram.wait_for_count(customer.user_id, before + 1, timeout=15)
    assert "글로" in telegram.sent(customer.user_id)[-1].text
    assert "한국어로" in (await customer.say("I want a loan please"))[-1].text
    assert "글자로" in (await customer.say("👍👍"))[-1].text
    assert "너무 길어요" in (await customer.say("가" * 5000))[-1].text

    async with session_scope(world.stack.sessions) as session:
        stored = list(
            await session.scalars(
                select(Contact.text).where(
                    Contact.policyholder_id == customer.holder.id,
                    Contact.direction == "in",  # type: ignore[union-attr]
                )
            )
        )
    for marker in (
        "[스티커]",
        "[사진]",
        "[음성 메시지]",
        "[위치]",
        "I want a loan please",
        "👍👍",
        "가" * 5000,
    ):
        assert any(text.startswith(marker) for text in stored), marker


async def test_repeated_update_is_processed_once(world: SessionWorld, holders: HolderPool) -> None:
    telegram = world.stack.telegram
    customer = Customer(telegram, holders.take())
    await customer.verify()
    before = len(telegram.sent(customer.user_id))
    update_id = telegram.next_update_id()
    update = {
        "update_id": update_id,
        "message": {
            "message_id": 99_000 + customer.user_id % 1000,
            "date": 1_790_000_000,
            "chat": {"id": customer.user_id, "type": "private", "first_name": "사용자"},
            "from": {"id": customer.user_id, "is_bot": False, "first_name": "사용자"},
            "text": "안녕하세요",
        },
    }
    # Telegram re-delivers an update when its confirmation was lost: same update id twice.
    telegram.push_raw(update)
    telegram.push_raw(dict(update))
    replies = await customer._settle(before)
    assert len(replies) == 1 and "안녕하세요" in replies[0].text
    async with session_scope(world.stack.sessions) as session:
        count = await session.scalar(
            select(func.count()).where(Contact.telegram_update_id == update_id)
        )
    assert count == 1


@pytest.mark.parametrize(("typing_after", "first_update_id"), [(0.0, 3_000_000), (60.0, 3_100_000)])
async def test_typing_shows_only_once_an_answer_takes_a_while(
    world: SessionWorld, holders: HolderPool, typing_after: float, first_update_id: int
) -> None:
    """With no patience every message shows "typing…" while Rasa thinks; with a minute, a
    quick answer needs none (a Bot API call less per message)."""
    async with app_stack(
        database_url=world.database_url,
        rasa_url=world.rasa.url,  # its actions go to the session stack's web server
        web_port=free_port(),
        serve_web=False,
        first_update_id=first_update_id,
        workers=False,
        typing_after=typing_after,
    ) as stack:
        customer = Customer(stack.telegram, holders.take_last())
        await customer.verify()
        for text in ["안녕하세요", "내 보험 뭐 있는지 알려주세요", "고마워요"]:
            assert await customer.say(text)
        typing = [
            call
            for call in stack.telegram.calls_to("sendChatAction")
            if call.params.get("chat_id") == customer.user_id
        ]
    if typing_after:
        assert typing == []
    else:
        # Each is sent as soon as the message is stored; one may lose the race to its answer.
        assert len(typing) >= 2 and all(c.params.get("action") == "typing" for c in typing)


async def test_rasa_down_still_reaches_a_person(world: SessionWorld, holders: HolderPool) -> None:
    holder = holders.take()
    dead_rasa = f"http://127.0.0.1:{free_port()}"
    async with app_stack(
        database_url=world.database_url,
        rasa_url=dead_rasa,
        web_port=free_port(),
        serve_web=False,
        first_update_id=1_000_000,  # the shared database already holds the first fake's update ids
        workers=False,  # the session stack's outbox worker delivers alerts, to its own fake
    ) as stack:
        customer = Customer(stack.telegram, holder)
        await customer.verify()
        reply = await customer.say("대출 좀 받으려고 하는데요")
        assert "잠시 문제가" in reply[-1].text
        request = await stored_request(world, reference_in(reply))
        assert request.details["reason"] == "rasa_down"
        alert = await world.stack.telegram.wait_for_message(
            KIM_CHAT_ID, lambda m: request.reference in m.text, timeout=15
        )
        assert "대출 좀 받으려고" in alert.text
    async with session_scope(world.stack.sessions) as session:
        contact = await session.scalar(
            select(Contact).where(Contact.text == "대출 좀 받으려고 하는데요")
        )
        assert contact is not None and contact.request_id == request.id
        queued = await session.scalar(
            select(func.count()).where(OutboxMessage.request_id == request.id)
        )
        assert queued >= 1


async def test_two_policyholders_at_once_each_in_order(
    world: SessionWorld, holders: HolderPool
) -> None:
    telegram = world.stack.telegram
    # The first asks for a loan: someone with a policy to borrow on, whichever tests ran before
    # (one policy: those with two are few, and other tests need them).
    borrower = holders.take_from(await holders_with_loanable_policies(world, at_least=1, at_most=1))
    first, second = Customer(telegram, borrower), Customer(telegram, holders.take())
    await asyncio.gather(first.verify(), second.verify())
    said = {
        first: ["대출 신청할래요", "취소할게요"],  # the cancel only makes sense after the form
        second: ["내 보험 뭐 있는지 알려주세요", "고마워요"],
    }
    before = {c: len(telegram.sent(c.user_id)) for c in said}
    # All four queued on the Bot API at once, interleaved: one getUpdates batch.
    for first_text, second_text in zip(said[first], said[second], strict=True):
        telegram.push_text(first.user_id, first_text)
        telegram.push_text(second.user_id, second_text)

    done = {first: "취소했어요", second: "천만에요"}
    await asyncio.gather(
        *(
            telegram.wait_for_message(c.user_id, lambda m, t=t: t in m.text, timeout=60)
            for c, t in done.items()
        )
    )
    replies = {c: texts_of(await c._settle(before[c])) for c in said}
    assert "진행 중인 신청은 없어요" not in replies[first]
    assert replies[first].index("대출") < replies[first].index("취소했어요")
    assert replies[second].index("다음 납입일") < replies[second].index("천만에요")

    async with session_scope(world.stack.sessions) as session:
        for customer, texts_said in said.items():
            assert customer.holder is not None
            ledger = list(
                await session.scalars(
                    select(Contact)
                    .where(Contact.policyholder_id == customer.holder.id)
                    .order_by(Contact.id)
                )
            )
            inbound = [c for c in ledger if c.direction == "in"]
            assert [c.text for c in inbound] == texts_said
            assert all(c.intent for c in inbound)
            assert sum(c.direction == "out" for c in ledger) >= len(inbound) + 1
