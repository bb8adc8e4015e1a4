"""Bookings that start from a stated event, take every answer the message gives, accept a
month or a week as the date, and refuse in-laws and other kin at once."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions import texts
from bot.actions.server import run_action, sender_id_for
from bot.clock import Clock, FrozenClock, set_clock
from bot.db.models import Request
from bot.services.sla import Deadlines
from tests.auxil.employees import build_org, freeze


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()  # Tuesday 2026-11-24
    set_clock(Clock())


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def tracker(
    sender: str,
    text: str,
    *,
    intent: str = "inform",
    slots: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
    loop: str | None = None,
) -> dict[str, Any]:
    """What Rasa sends for ``text``: earlier ``slots``, then ``candidates`` set this turn."""
    candidates = candidates or {}
    return {
        "sender_id": sender,
        "slots": {**(slots or {}), **candidates},
        "latest_message": {"text": text, "intent": {"name": intent}, "entities": []},
        "events": [
            *(slot(k, v) for k, v in (slots or {}).items()),
            {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
            *(slot(k, v) for k, v in candidates.items()),
        ],
        "active_loop": {"name": loop} if loop else {},
    }


async def run(
    sessions: async_sessionmaker[AsyncSession], action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    status, body = await run_action(
        sessions, {"next_action": action, "tracker": payload}, deadlines=Deadlines()
    )
    assert status == 200
    return body


def final_slots(body: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}


async def sender(sessions: async_sessionmaker[AsyncSession]) -> str:
    return sender_id_for((await build_org(sessions)).policyholder_id)


async def test_a_stated_move_starts_the_booking(sessions: async_sessionmaker[AsyncSession]) -> None:
    body = await run(
        sessions, "action_inform", tracker(await sender(sessions), "이달 30일에 아빠 이사해요")
    )
    assert body["events"] == [
        slot("pending_offer", None),
        slot("booking_kind", "moving"),
        {"event": "followup", "name": "booking_form"},
    ]
    assert body["responses"] == []


@pytest.mark.parametrize("text", ["이사 갈 때 주소는 어떻게 바꿔요", "그냥 물어볼게 있어요"])
async def test_an_event_word_alone_is_no_booking(
    sessions: async_sessionmaker[AsyncSession], text: str
) -> None:
    body = await run(sessions, "action_inform", tracker(await sender(sessions), text))
    assert body["events"] == []
    assert body["responses"] == [{"response": "utter_how_can_i_help"}]


async def test_the_opening_message_fills_every_slot_it_gives(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    text = "12월 12일에 우리 엄마가 인천 연수구 송도동으로 이사 가요"
    payload = tracker(await sender(sessions), text, candidates={"booking_kind": "moving"})
    body = await run(sessions, "validate_booking_form", payload)
    assert final_slots(body) == {
        "booking_kind": "moving",
        "event_relation": "mother",
        "event_date": "2026-12-12",
        "event_place": "인천 연수구 송도동",
    }


async def test_an_answer_may_carry_another_slot(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    text = "어머니가 다음달 초에 이사하세요"
    payload = tracker(
        await sender(sessions),
        text,
        slots={"booking_kind": "moving", "requested_slot": "event_relation"},
        candidates={"event_relation": text},
        loop="booking_form",
    )
    body = await run(sessions, "validate_booking_form", payload)
    assert final_slots(body) == {"event_relation": "mother", "event_date": "2026-12"}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("장모님이 다음주에 이사하시는데 할인 되나요", "장모님"),
        ("조카 결혼식이 12월 5일이에요", "조카"),
        ("친구 결혼식에도 할인 되나요", "친구"),
    ],
)
async def test_in_laws_and_other_kin_are_refused_at_once(
    sessions: async_sessionmaker[AsyncSession], text: str, said: str
) -> None:
    kind = "wedding" if "결혼" in text else "moving"
    payload = tracker(await sender(sessions), text, candidates={"booking_kind": kind})
    body = await run(sessions, "validate_booking_form", payload)
    (reply,) = body["responses"]
    assert reply["text"].startswith("죄송해요. 제휴 할인 서비스는 계약자 본인과 직계존비속")
    assert f"{said}의" in reply["text"]
    final = final_slots(body)
    assert final["requested_slot"] is None and final["booking_kind"] is None
    assert final["event_relation"] is None


@pytest.mark.parametrize(
    ("answer", "stored"),
    [("다음달 초요", "2026-12"), ("다음 주 중에요", "2026-W49"), ("12월 5일", "2026-12-05")],
)
async def test_a_month_or_a_week_is_a_date_answer(
    sessions: async_sessionmaker[AsyncSession], answer: str, stored: str
) -> None:
    payload = tracker(
        await sender(sessions),
        answer,
        slots={"booking_kind": "moving", "event_relation": "self", "requested_slot": "event_date"},
        candidates={"event_date": answer},
        loop="booking_form",
    )
    body = await run(sessions, "validate_booking_form", payload)
    assert final_slots(body) == {"event_date": stored}


async def test_a_past_month_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    payload = tracker(
        await sender(sessions),
        "지난달요",
        slots={"booking_kind": "moving", "event_relation": "self", "requested_slot": "event_date"},
        candidates={"event_date": "지난달요"},
        loop="booking_form",
    )
    body = await run(sessions, "validate_booking_form", payload)
    assert final_slots(body) == {"event_date": None}
    assert body["responses"][0]["text"] == texts.DATE_PAST.format(date="2026년 10월 중")


async def test_the_confirmation_shows_a_rough_date_as_said(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    slots = {
        "booking_kind": "wedding",
        "event_relation": "daughter",
        "event_date": "2027-03",
        "event_place": "송도 컨벤시아",
    }
    body = await run(
        sessions,
        "action_ask_booking_confirm",
        tracker(await sender(sessions), "송도 컨벤시아", slots=slots, loop="booking_form"),
    )
    assert "• 날짜: 2027년 3월 중" in body["responses"][0]["text"]


async def test_a_week_level_booking_is_stored_and_alerted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    slots = {
        "booking_kind": "moving",
        "event_relation": "self",
        "event_date": "2026-W49",
        "event_place": "서울 마포구 합정동",
        "booking_confirm": True,
    }
    body = await run(
        sessions,
        "action_submit_booking",
        tracker(await sender(sessions), "네", intent="affirm", slots=slots),
    )
    assert "접수했어요" in body["responses"][0]["text"]
    async with sessions() as session:
        request = await session.scalar(select(Request))
    assert request is not None
    assert request.details["date"] == "2026-W49"
    assert "2026년 12월 첫째 주" in request.summary  # the employee's alert shows the summary


@pytest.mark.parametrize("answer", ["관둘게요", "접수하지 말아 주세요", "신청 철회할게요"])
async def test_an_indirect_cancellation_ends_the_form(
    sessions: async_sessionmaker[AsyncSession], answer: str
) -> None:
    payload = tracker(
        await sender(sessions),
        answer,
        slots={"booking_kind": "moving", "event_relation": "son", "requested_slot": "event_date"},
        candidates={"event_date": answer},
        loop="booking_form",
    )
    body = await run(sessions, "validate_booking_form", payload)
    assert body["responses"][0]["text"] == texts.CANCELLED.format(what="서비스 예약을")
    final = final_slots(body)
    assert final["requested_slot"] is None and final["booking_kind"] is None
    submitted = await run(
        sessions,
        "action_submit_booking",
        {
            **payload,
            "events": [*payload["events"], {"event": "bot", "text": body["responses"][0]["text"]}],
        },
    )
    assert submitted["responses"] == []
    async with sessions() as session:
        assert await session.scalar(select(Request)) is None
