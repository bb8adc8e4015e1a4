"""Employee workspace: services under a frozen clock, and the Telegram flow over the fake API."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.clock import Clock, FrozenClock, set_clock
from bot.config import Settings
from bot.db.engine import session_scope
from bot.db.models import Contact, Employee, OutboxMessage, Policyholder, Request, RequestEvent
from bot.rasa_client import RasaClient
from bot.services import casework, portfolio, ratings, relay
from bot.services.casefile import WorkspaceError
from bot.services.chain import route_policyholder
from bot.services.invites import create_invite
from bot.services.ledger import record_contact
from bot.services.outbox import run_outbox_worker
from bot.services.relay import consume_policyholder_text
from bot.services.sla import Deadlines
from bot.telegram import employee as employee_handlers
from bot.telegram import policyholder as policyholder_handlers
from bot.telegram.context import SERVICES_KEY, BotServices
from bot.telegram.sender import telegram_sender
from tests.auxil.employees import (
    DEPUTY_CHAT,
    HEAD_CHAT,
    OWNER_CHAT,
    PH_CHAT,
    Org,
    build_org,
    freeze,
    new_request,
)
from tests.auxil.fake_telegram import FakeTelegram


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


async def _outbox(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def _load(
    session: AsyncSession, org: Org, request_id: int, employee_id: int
) -> tuple[Request, Employee]:
    request = await session.get(Request, request_id)
    employee = await session.get(Employee, employee_id)
    assert request is not None and employee is not None
    return request, employee


# --- services ------------------------------------------------------------------------------------
async def test_acknowledge_records_who_and_tells_the_policyholder(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    frozen.advance(timedelta(minutes=5))
    async with session_scope(sessions) as session:
        req, owner = await _load(session, org, request.id, org.owner_id)
        assert await casework.acknowledge(session, request=req, employee=owner)
        assert not await casework.acknowledge(session, request=req, employee=owner)  # once
    async with sessions() as session:
        req, _ = await _load(session, org, request.id, org.owner_id)
        assert req.status == "acknowledged"
        assert req.acknowledged_at is not None
        events = (
            await session.scalars(select(RequestEvent).where(RequestEvent.action == "acknowledged"))
        ).all()
        assert [(e.employee_id, e.request_id) for e in events] == [(org.owner_id, req.id)]
        contact = await session.scalar(select(Contact).where(Contact.request_id == req.id))
        assert contact is not None and contact.direction == "out"
        assert "접수됐어요" in contact.text and "박민수 대리" in contact.text
    notice = (await _outbox(sessions))[-1]
    assert notice.chat_id == PH_CHAT and notice.purpose == "ack_notice"


async def test_two_employees_pressing_at_once_act_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Owner and head both loaded the new request; only the first 접수 and 완료 count."""
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    async with sessions() as owner_session, sessions() as head_session:
        owner_req, owner = await _load(owner_session, org, request.id, org.owner_id)
        head_req, head = await _load(head_session, org, request.id, org.head_id)
        assert owner_req.status == head_req.status == "new"  # both saw it open
        assert await casework.acknowledge(owner_session, request=owner_req, employee=owner)
        await owner_session.commit()
        assert not await casework.acknowledge(head_session, request=head_req, employee=head)
        assert head_req.status == "acknowledged"  # the loser sees who won
        await head_session.commit()
    async with sessions() as owner_session, sessions() as head_session:
        owner_req, owner = await _load(owner_session, org, request.id, org.owner_id)
        head_req, head = await _load(head_session, org, request.id, org.head_id)
        assert await casework.resolve(head_session, request=head_req, employee=head)
        await head_session.commit()
        assert not await casework.resolve(owner_session, request=owner_req, employee=owner)
        await owner_session.commit()
    async with sessions() as session:
        actions = list(
            await session.scalars(
                select(RequestEvent.action)
                .where(RequestEvent.request_id == request.id)
                .order_by(RequestEvent.id)
            )
        )
        assert actions.count("acknowledged") == 1 and actions.count("resolved") == 1
    notices = [m.purpose for m in await _outbox(sessions) if m.chat_id == PH_CHAT]
    assert notices.count("ack_notice") == 1 and notices.count("resolved_notice") == 1


async def test_stranger_cannot_act(sessions: async_sessionmaker[AsyncSession]) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    async with session_scope(sessions) as session:
        stranger = Employee(name="남궁민", title="사원", department_id=1, home_area="서울")
        session.add(stranger)
        await session.flush()
        req = await session.get(Request, request.id)
        assert req is not None
        with pytest.raises(WorkspaceError, match="권한"):
            await casework.acknowledge(session, request=req, employee=stranger)


async def test_hand_over_goes_to_deputy_then_head(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    async with session_scope(sessions) as session:
        req, owner = await _load(session, org, request.id, org.owner_id)
        target = await casework.hand_over(
            session, request=req, employee=owner, deadlines=Deadlines()
        )
        assert target.id == org.deputy_id
    async with session_scope(sessions) as session:
        req, deputy = await _load(session, org, request.id, org.deputy_id)
        target = await casework.hand_over(
            session, request=req, employee=deputy, deadlines=Deadlines()
        )
        assert target.id == org.head_id
    async with session_scope(sessions) as session:
        req, head = await _load(session, org, request.id, org.head_id)
        with pytest.raises(WorkspaceError, match="이관할 수 있는 담당자가 없습니다"):
            await casework.hand_over(session, request=req, employee=head, deadlines=Deadlines())
    rows = await _outbox(sessions)
    assert [(r.chat_id, r.purpose) for r in rows] == [
        (OWNER_CHAT, "alert"),
        (DEPUTY_CHAT, "handover"),
        (PH_CHAT, "handover_notice"),
        (HEAD_CHAT, "handover"),
        (PH_CHAT, "handover_notice"),
    ]
    assert "박민수 대리께서 이관한 요청입니다" in rows[1].text
    assert "담당자가 바뀌었어요" in rows[2].text and "최지영 과장" in rows[2].text


async def test_away_employee_is_skipped_by_routing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    async with session_scope(sessions) as session:
        owner = await session.get(Employee, org.owner_id)
        assert owner is not None
        await portfolio.set_away(
            session, employee=owner, start=date(2026, 11, 23), end=date(2026, 11, 27)
        )
    async with sessions() as session:
        ph = await session.get(Policyholder, org.policyholder_id)
        assert ph is not None
        route = await route_policyholder(session, policyholder=ph, today=date(2026, 11, 24))
        assert route is not None and route.role == "deputy"
        route = await route_policyholder(session, policyholder=ph, today=date(2026, 11, 28))
        assert route is not None and route.role == "owner"
    async with session_scope(sessions) as session:
        owner = await session.get(Employee, org.owner_id)
        assert owner is not None
        with pytest.raises(WorkspaceError):
            await portfolio.set_away(
                session, employee=owner, start=date(2026, 12, 5), end=date(2026, 12, 1)
            )


async def test_visit_log_and_my_policyholders(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    org = await build_org(sessions)
    await new_request(sessions, org)
    async with session_scope(sessions) as session:
        owner = await session.get(Employee, org.owner_id)
        assert owner is not None
        ph = await portfolio.find_my_policyholder(session, employee=owner, key="1")
        contact = await portfolio.log_touch(
            session, employee=owner, policyholder=ph, channel="visit", note="현관에서 판촉물 전달"
        )
        assert contact.channel == "visit" and contact.employee_id == owner.id
        [line] = await portfolio.my_policyholders(session, employee=owner)
        assert line.policyholder.name == "이영숙"
        assert line.open_requests == 1
        assert line.last_contact is not None
        deputy = await session.get(Employee, org.deputy_id)
        assert deputy is not None
        with pytest.raises(WorkspaceError):
            await portfolio.log_touch(
                session, employee=deputy, policyholder=ph, channel="phone", note="x"
            )


async def test_relay_handoff_and_its_end(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org)

    async def policyholder_says(text: str) -> tuple[bool, int]:
        async with session_scope(sessions) as session:
            ph = await session.get(Policyholder, org.policyholder_id)
            assert ph is not None
            contact = await record_contact(
                session, direction="in", sender="policyholder", text=text, policyholder_id=ph.id
            )
            taken = await consume_policyholder_text(
                session, policyholder=ph, text=text, contact_id=contact.id
            )
            return taken, contact.id

    assert (await policyholder_says("안녕하세요"))[0] is False  # no handoff: the bot answers
    async with session_scope(sessions) as session:
        req, owner = await _load(session, org, request.id, org.owner_id)
        contact = await relay.relay_to_policyholder(
            session, request=req, employee=owner, text="내일 오후에 전화드릴게요."
        )
        assert contact is not None and contact.sender == "employee"
        assert req.status == "in_progress"
    out = (await _outbox(sessions))[-1]
    assert out.chat_id == PH_CHAT
    assert out.text.startswith("내일 오후에 전화드릴게요.\n\n— 국제생명 박민수 대리")

    taken, contact_id = await policyholder_says("네, 3시 이후면 좋아요")
    assert taken
    forwarded = (await _outbox(sessions))[-1]
    assert forwarded.chat_id == OWNER_CHAT and "3시 이후면 좋아요" in forwarded.text
    async with sessions() as session:
        stored = await session.get(Contact, contact_id)
        assert stored is not None and stored.request_id == request.id

    frozen.advance(timedelta(hours=24, seconds=1))  # 24 h without an employee message
    assert (await policyholder_says("여보세요?"))[0] is False

    async with session_scope(sessions) as session:  # the employee writes again: reopened
        req, owner = await _load(session, org, request.id, org.owner_id)
        await relay.relay_to_policyholder(session, request=req, employee=owner, text="네!")
    assert (await policyholder_says("감사해요"))[0] is True
    async with session_scope(sessions) as session:
        req, owner = await _load(session, org, request.id, org.owner_id)
        await casework.resolve(session, request=req, employee=owner)
    assert (await policyholder_says("또 궁금한 게 있어요"))[0] is False  # resolved: bot again


async def test_rating_then_comment(sessions: async_sessionmaker[AsyncSession]) -> None:
    org = await build_org(sessions)
    request = await new_request(sessions, org)
    async with session_scope(sessions) as session:
        req, owner = await _load(session, org, request.id, org.owner_id)
        await casework.resolve(session, request=req, employee=owner)
    resolved = (await _outbox(sessions))[-1]
    assert "처리됐어요" in resolved.text
    assert resolved.reply_markup is not None
    assert [b["callback_data"] for b in resolved.reply_markup["inline_keyboard"][0]] == [
        f"rate:{request.id}:{n}" for n in range(1, 6)
    ]
    async with session_scope(sessions) as session:
        req, _ = await _load(session, org, request.id, org.owner_id)
        ph = await session.get(Policyholder, org.policyholder_id)
        assert ph is not None
        assert await ratings.rate(session, request=req, policyholder=ph, stars=5)
        contact = await record_contact(
            session, direction="in", sender="policyholder", text="친절했어요", policyholder_id=ph.id
        )
        assert await consume_policyholder_text(
            session, policyholder=ph, text="친절했어요", contact_id=contact.id
        )
    async with sessions() as session:
        req, _ = await _load(session, org, request.id, org.owner_id)
        assert (req.rating, req.rating_comment) == (5, "친절했어요")
    to_owner = (await _outbox(sessions))[-1]
    assert (
        to_owner.chat_id == OWNER_CHAT and "5점" in to_owner.text and "친절했어요" in to_owner.text
    )


# --- Telegram flow over the fake Bot API -----------------------------------------------------------
@asynccontextmanager
async def running_bot(
    sessions: async_sessionmaker[AsyncSession], fake: FakeTelegram
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The employee handlers, the rating buttons, and a stand-in for the policyholder path
    (group 0)."""
    application = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    # No Rasa here: the stand-in below answers for the policyholder path.
    application.bot_data[SERVICES_KEY] = BotServices(
        settings=Settings(),
        sessions=sessions,
        rasa=RasaClient("http://127.0.0.1:9"),
        deadlines=Deadlines(),
    )
    employee_handlers.register(application)
    application.add_handler(
        CallbackQueryHandler(
            policyholder_handlers.on_rating_button, pattern=policyholder_handlers.RATING_BUTTON
        )
    )

    async def policyholder_path(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """What the lead's policyholder handler does: ledger, workspace hook, else the bot."""
        assert update.message is not None and update.message.text is not None
        async with session_scope(sessions) as session:
            ph = await session.scalar(
                select(Policyholder).where(Policyholder.telegram_user_id == update.message.chat_id)
            )
            if ph is not None:
                contact = await record_contact(
                    session,
                    direction="in",
                    sender="policyholder",
                    text=update.message.text,
                    policyholder_id=ph.id,
                    telegram_update_id=update.update_id,
                )
                if await consume_policyholder_text(
                    session, policyholder=ph, text=update.message.text, contact_id=contact.id
                ):
                    return
        await update.message.reply_text(f"BOT: {update.message.text}")

    application.add_handler(MessageHandler(filters.TEXT, policyholder_path))
    stop = asyncio.Event()
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        worker = asyncio.create_task(
            run_outbox_worker(sessions, telegram_sender(application.bot), interval=0.05, stop=stop)
        )
        try:
            yield application
        finally:
            stop.set()
            await worker
            await application.updater.stop()
            await application.stop()


async def test_telegram_employee_flow(sessions: async_sessionmaker[AsyncSession]) -> None:
    """invite → link → alert → 접수 → 답장 → relay both ways → 완료 → rating → comment."""
    set_clock(Clock())
    org = await build_org(sessions, link=False)
    async with session_scope(sessions) as session:
        invite = await create_invite(session, employee_id=org.owner_id)
    async with FakeTelegram() as fake, running_bot(sessions, fake):
        fake.push_text(OWNER_CHAT, f"/start emp-{invite.code}")
        linked = await fake.wait_for_message(OWNER_CHAT)
        assert "박민수님, 밀착 직원용 계정이 연결되었습니다" in linked.text
        call = await fake.wait_for_call("setMyCommands")
        assert call.params["scope"] == {"type": "chat", "chat_id": OWNER_CHAT}
        assert {c["command"] for c in call.params["commands"]} >= {"mine", "open", "visit", "away"}

        fake.push_text(DEPUTY_CHAT, f"/start emp-{invite.code}")  # used code, another person
        used = await fake.wait_for_message(DEPUTY_CHAT)
        assert "이미 사용된 초대 링크" in used.text

        request = await new_request(sessions, org)
        alert = await fake.wait_for_message(OWNER_CHAT, lambda m: request.reference in m.text)
        assert [t for t, _ in alert.buttons] == ["접수", "답장", "완료", "이관"]

        fake.push_callback(OWNER_CHAT, f"req:ack:{request.id}", alert.message_id)
        await fake.wait_for_call("answerCallbackQuery")
        await fake.wait_for_message(OWNER_CHAT, lambda m: "접수했습니다" in m.text)
        await fake.wait_for_message(
            OWNER_CHAT,
            lambda m: m.message_id == alert.message_id and "접수 — 박민수 대리" in m.text,
        )
        assert [t for t, _ in fake.message(alert.message_id).buttons] == ["답장", "완료", "이관"]
        notice = await fake.wait_for_message(PH_CHAT)
        assert "접수됐어요" in notice.text

        # 답장 button, then plain text → policyholder, signed.
        fake.push_callback(OWNER_CHAT, f"req:reply:{request.id}", alert.message_id)
        await fake.wait_for_message(OWNER_CHAT, lambda m: "보낼 내용을 입력해 주세요" in m.text)
        fake.push_text(OWNER_CHAT, "오늘 저녁 7시에 전화드려도 될까요?")
        relayed = await fake.wait_for_message(PH_CHAT, lambda m: "7시" in m.text)
        assert "— 국제생명 박민수 대리" in relayed.text

        # The policyholder answers: it reaches the employee, the bot stays silent.
        fake.push_text(PH_CHAT, "네 좋아요")
        forwarded = await fake.wait_for_message(OWNER_CHAT, lambda m: "네 좋아요" in m.text)
        # A Telegram reply to the forwarded message goes back to the policyholder.
        fake.push_text(OWNER_CHAT, "그럼 7시에 뵐게요", reply_to_message_id=forwarded.message_id)
        await fake.wait_for_message(PH_CHAT, lambda m: "7시에 뵐게요" in m.text)
        assert not [m for m in fake.sent(PH_CHAT) if m.text.startswith("BOT:")]

        fake.push_callback(OWNER_CHAT, f"req:done:{request.id}", alert.message_id)
        done = await fake.wait_for_message(PH_CHAT, lambda m: "처리됐어요" in m.text)
        assert [d for _, d in done.buttons] == [f"rate:{request.id}:{n}" for n in range(1, 6)]
        await fake.wait_for_message(
            OWNER_CHAT, lambda m: m.message_id == alert.message_id and "처리 완료" in m.text
        )
        assert fake.message(alert.message_id).buttons == []

        fake.push_callback(PH_CHAT, f"rate:{request.id}:4", done.message_id)
        await fake.wait_for_message(PH_CHAT, lambda m: "별점 4점" in m.text)
        fake.push_text(PH_CHAT, "빠르게 처리해 주셔서 좋았어요")
        await fake.wait_for_message(PH_CHAT, lambda m: "소중한 의견" in m.text)
        await fake.wait_for_message(OWNER_CHAT, lambda m: "평가: 4점" in m.text)

        fake.push_text(PH_CHAT, "안녕하세요")  # after the rating: the bot answers again
        await fake.wait_for_message(PH_CHAT, lambda m: m.text == "BOT: 안녕하세요")

    async with sessions() as session:
        req = await session.get(Request, request.id)
        assert req is not None
        assert (req.status, req.rating, req.rating_comment) == (
            "resolved",
            4,
            "빠르게 처리해 주셔서 좋았어요",
        )
        actions = [
            (e.action, e.employee_id)
            for e in (
                await session.scalars(
                    select(RequestEvent)
                    .where(RequestEvent.request_id == req.id)
                    .order_by(RequestEvent.id)
                )
            ).all()
        ]
        assert actions == [
            ("created", org.owner_id),
            ("acknowledged", org.owner_id),
            ("replied", org.owner_id),
            ("replied", org.owner_id),
            ("resolved", org.owner_id),
            ("rated", None),
            ("rating_comment", None),
        ]
        relay_rows = (
            await session.scalars(
                select(Contact).where(Contact.request_id == req.id).order_by(Contact.id)
            )
        ).all()
        senders = [(c.direction, c.sender) for c in relay_rows]
        assert ("out", "employee") in senders and ("in", "policyholder") in senders


async def test_employee_commands_and_refusal(sessions: async_sessionmaker[AsyncSession]) -> None:
    set_clock(Clock())
    org = await build_org(sessions)
    await new_request(sessions, org)
    async with FakeTelegram() as fake, running_bot(sessions, fake):
        await fake.wait_for_message(OWNER_CHAT)  # the alert
        fake.push_text(PH_CHAT, "/mine")
        refused = await fake.wait_for_message(PH_CHAT)
        assert "직원 전용 명령어" in refused.text
        fake.push_text(OWNER_CHAT, "/mine")
        mine = await fake.wait_for_message(OWNER_CHAT, lambda m: "담당 계약자" in m.text)
        assert "1. 이영숙 · 인천 남동구" in mine.text and "진행 중 1건" in mine.text
        fake.push_text(OWNER_CHAT, "/open")
        listed = await fake.wait_for_message(OWNER_CHAT, lambda m: "처리 중인 요청 1건" in m.text)
        assert "[약관대출 신청] 이영숙 님 · 접수 대기 · 접수 기한" in listed.text
        fake.push_text(OWNER_CHAT, "/visit 1 현관에서 판촉물 전달, 불만 없음")
        await fake.wait_for_message(OWNER_CHAT, lambda m: "방문 기록을 저장했습니다" in m.text)
        fake.push_text(OWNER_CHAT, "/call")
        await fake.wait_for_message(OWNER_CHAT, lambda m: m.text.startswith("사용법: /call"))
        fake.push_text(OWNER_CHAT, "/away 2026-12-01 2026-12-05")
        await fake.wait_for_message(OWNER_CHAT, lambda m: "부재로 등록했습니다" in m.text)
        fake.push_text(OWNER_CHAT, "아무 말")
        await fake.wait_for_message(OWNER_CHAT, lambda m: "[답장] 버튼" in m.text)
        fake.push_sticker(OWNER_CHAT)
        await fake.wait_for_message(OWNER_CHAT, lambda m: "텍스트" in m.text)
        await fake.wait_until_consumed()
        assert not [m for m in fake.sent() if m.text.startswith("BOT:")]  # nobody fell through
    async with sessions() as session:
        owner = await session.get(Employee, org.owner_id)
        assert owner is not None
        assert (owner.away_from, owner.away_until) == (date(2026, 12, 1), date(2026, 12, 5))
        visit = await session.scalar(select(Contact).where(Contact.channel == "visit"))
        assert visit is not None and visit.text == "현관에서 판촉물 전달, 불만 없음"
