"""Bookings: a new kind of booking starts clean, and the rules are checked again at submit."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions import texts
from bot.actions.server import run_action, sender_id_for
from bot.clock import Clock, FrozenClock, set_clock
from bot.db.models import Request
from bot.services.sla import Deadlines
from tests.auxil.employees import build_org, freeze

MOVING_TEXT = "다음주 토요일에 이사하는데 이사대행 신청할게요"
FUNERAL_ANSWERS = {
    "booking_kind": "funeral",
    "event_relation": "father",
    "event_date": "2026-11-26",
    "event_place": "인천 남동구 가천장례식장",
}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()  # Tuesday 2026-11-24
    set_clock(Clock())


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def moving_after_funeral(sender: str, *, kind_now: str) -> dict[str, Any]:
    """A funeral booking left at its confirmation, then a message starting a ``kind_now``
    booking: what Rasa sends validate_booking_form."""
    before = [slot(name, value) for name, value in FUNERAL_ANSWERS.items()]
    before.append(slot("requested_slot", "booking_confirm"))
    intent = {"moving": "book_moving", "funeral": "book_funeral"}[kind_now]
    candidates = {"booking_kind": kind_now, "booking_confirm": MOVING_TEXT}
    return {
        "sender_id": sender,
        "slots": {**FUNERAL_ANSWERS, "requested_slot": "booking_confirm", **candidates},
        "latest_message": {"text": MOVING_TEXT, "intent": {"name": intent}, "entities": []},
        "events": [
            *before,
            {"event": "user", "text": MOVING_TEXT, "parse_data": {"intent": {"name": intent}}},
            *(slot(name, value) for name, value in candidates.items()),
        ],
        "active_loop": {"name": "booking_form"},
    }


async def test_a_booking_of_another_kind_forgets_the_earlier_answers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    sender = sender_id_for(org.policyholder_id)
    _, body = await run_action(
        sessions,
        {
            "next_action": "validate_booking_form",
            "tracker": moving_after_funeral(sender, kind_now="moving"),
        },
        deadlines=Deadlines(),
    )
    final: dict[str, Any] = {}
    for event in body["events"]:
        final[event["name"]] = event["value"]
    assert final["booking_kind"] == "moving"
    for name in ("event_relation", "event_place", "booking_confirm"):
        assert final[name] is None, (name, final)
    # What the moving message itself says is its first answer (다음주 토요일, from Tuesday).
    assert final["event_date"] == "2026-12-05"
    # The moving message is not an answer to the funeral's "이대로 요청할까요?".
    assert body["responses"] == []


async def test_the_same_kind_again_resumes_with_its_answers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    sender = sender_id_for(org.policyholder_id)
    _, body = await run_action(
        sessions,
        {
            "next_action": "validate_booking_form",
            "tracker": moving_after_funeral(sender, kind_now="funeral"),
        },
        deadlines=Deadlines(),
    )
    cleared = {e["name"] for e in body["events"] if e["value"] is None}
    assert not cleared & {"event_relation", "event_date", "event_place"}


def submit_tracker(
    sender: str, slots: dict[str, Any], said: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "sender_id": sender,
        "slots": slots,
        "latest_message": {"text": "네", "intent": {"name": "affirm"}, "entities": []},
        "events": [
            {"event": "user", "text": "네", "parse_data": {"intent": {"name": "affirm"}}},
            *({"event": "bot", "text": text} for text in said),
        ],
        "active_loop": {},
    }


async def _count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count(Request.id))) or 0)


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        (
            {"event_relation": "sibling"},
            texts.RELATION_INELIGIBLE.format(relation="형제자매", noun="장례"),
        ),
        ({"event_relation": None}, texts.RELATION_UNREADABLE),
        ({"event_date": "2026-11-01"}, texts.DATE_PAST.format(date="2026년 11월 1일 (일)")),
        ({"event_place": ""}, texts.PLACE_TOO_SHORT),
    ],
    ids=["not-lineal", "no-relation", "past-date", "no-place"],
)
async def test_a_submit_that_breaks_a_rule_opens_nothing(
    sessions: async_sessionmaker[AsyncSession], changes: dict[str, Any], refusal: str
) -> None:
    org = await build_org(sessions)
    slots = {**FUNERAL_ANSWERS, "booking_confirm": True, **changes}
    _, body = await run_action(
        sessions,
        {
            "next_action": "action_submit_booking",
            "tracker": submit_tracker(sender_id_for(org.policyholder_id), slots),
        },
        deadlines=Deadlines(),
    )
    assert body["responses"][0]["text"] == refusal
    assert await _count(sessions) == 0


async def test_the_forms_own_refusal_is_not_repeated_at_submit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    said = texts.RELATION_INELIGIBLE.format(relation="시아버지", noun="장례")
    slots = {**FUNERAL_ANSWERS, "event_relation": "other", "booking_confirm": None}
    _, body = await run_action(
        sessions,
        {
            "next_action": "action_submit_booking",
            "tracker": submit_tracker(sender_id_for(org.policyholder_id), slots, (said,)),
        },
        deadlines=Deadlines(),
    )
    assert body["responses"] == []
    assert await _count(sessions) == 0


async def test_a_valid_booking_is_opened(sessions: async_sessionmaker[AsyncSession]) -> None:
    org = await build_org(sessions)
    slots = {**FUNERAL_ANSWERS, "booking_confirm": True}
    _, body = await run_action(
        sessions,
        {
            "next_action": "action_submit_booking",
            "tracker": submit_tracker(sender_id_for(org.policyholder_id), slots),
        },
        deadlines=Deadlines(),
    )
    assert "접수했어요" in body["responses"][0]["text"]
    assert await _count(sessions) == 1
