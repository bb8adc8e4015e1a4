"""The booking rules are checked again where a booking request is opened, whatever the form said.

The clock stands at Tuesday 2026-11-24, 10:00 in Seoul.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions import texts
from bot.actions.booking import refusal
from bot.actions.server import run_action, sender_id_for
from bot.clock import Clock, FrozenClock, set_clock
from bot.db.models import OutboxMessage, Partner, Policyholder, Request
from bot.services.bookings import BookingProblem, BookingRefused, open_booking
from bot.services.sla import Deadlines
from nlu.dates import Month
from tests.auxil.employees import Org, build_org, freeze

FUNERAL = {
    "kind": "funeral",
    "relation": "father",
    "event_date": "2026-11-23",
    "place": "인천 남동구 가천장례식장",
}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


async def _with_partner(sessions: async_sessionmaker[AsyncSession]) -> Org:
    org = await build_org(sessions)
    async with sessions() as session:
        session.add(
            Partner(kind="funeral", name="임종의 전화", phone="1588-0000", discount="10% 할인")
        )
        await session.commit()
    return org


async def _lee(session: AsyncSession, org: Org) -> Policyholder:
    lee = await session.get(Policyholder, org.policyholder_id)
    assert lee is not None
    return lee


async def _revoke_verification(sessions: async_sessionmaker[AsyncSession]) -> None:
    """이영숙's verification ends (as re-verifying someone else on her Telegram account does)."""
    async with sessions() as session:
        await session.execute(update(Policyholder).values(verified_at=None))
        await session.commit()


async def _counts(session: AsyncSession) -> tuple[int, int]:
    requests = await session.scalar(select(func.count(Request.id)))
    alerts = await session.scalar(select(func.count(OutboxMessage.id)))
    return int(requests or 0), int(alerts or 0)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"kind": "loan"}, "unknown_kind"),
        ({"kind": None}, "unknown_kind"),
        ({"relation": "spouse"}, "ineligible"),
        ({"relation": "sibling"}, "ineligible"),
        ({"relation": "in_law"}, "ineligible"),
        ({"relation": "relative"}, "ineligible"),
        ({"relation": "other"}, "ineligible"),
        ({"relation": "장모님"}, "ineligible"),  # words, not a code: read like an answer
        ({"relation": None}, "no_relation"),
        ({"relation": "someone"}, "no_relation"),
        ({"event_date": None}, "no_date"),
        ({"event_date": "다음주 토요일"}, "no_date"),  # the form stores dates normalised
        ({"event_date": "2026-13"}, "no_date"),
        ({"event_date": "2026-11-20"}, "past_date"),  # a funeral: 4 days back is too long ago
        ({"kind": "moving", "event_date": "2026-11-23"}, "past_date"),
        ({"kind": "moving", "event_date": "2026-10"}, "past_date"),
        ({"kind": "wedding", "event_date": "2026-W47"}, "past_date"),  # 16–22 November
        ({"place": ""}, "no_place"),
        ({"place": " 집 "}, "no_place"),
    ],
)
async def test_a_booking_that_breaks_a_rule_is_not_opened(
    sessions: async_sessionmaker[AsyncSession], changes: dict[str, Any], reason: str
) -> None:
    org = await _with_partner(sessions)
    async with sessions() as session:
        with pytest.raises(BookingRefused) as refused:
            await open_booking(
                session,
                policyholder=await _lee(session, org),
                **{**FUNERAL, **changes},
                deadlines=Deadlines(),
            )
        assert refused.value.problem.reason == reason
        assert await _counts(session) == (0, 0)


async def test_a_policyholder_whose_verification_was_revoked_cannot_book(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await _with_partner(sessions)
    await _revoke_verification(sessions)
    async with sessions() as session:
        with pytest.raises(BookingRefused) as refused:
            await open_booking(
                session, policyholder=await _lee(session, org), **FUNERAL, deadlines=Deadlines()
            )
        assert refused.value.problem.reason == "not_verified"
        assert await _counts(session) == (0, 0)


@pytest.mark.parametrize(
    ("changes", "date"),
    [
        ({"event_date": "2026-11-21"}, "2026-11-21"),  # a funeral: the day of death, 3 days back
        ({"kind": "moving", "event_date": "2026-11-24"}, "2026-11-24"),  # today
        ({"kind": "wedding", "event_date": "2027-03"}, "2027-03"),  # 내년 3월: a month will do
        ({"kind": "moving", "event_date": "2026-W48"}, "2026-W48"),  # this week, not over yet
        ({"kind": "moving", "event_date": " 2026-11 "}, "2026-11"),  # this month
    ],
)
async def test_rough_and_recent_dates_are_booked_where_the_kind_allows(
    sessions: async_sessionmaker[AsyncSession], changes: dict[str, Any], date: str
) -> None:
    org = await _with_partner(sessions)
    async with sessions() as session:
        request = await open_booking(
            session,
            policyholder=await _lee(session, org),
            **{**FUNERAL, **changes},
            deadlines=Deadlines(),
        )
        assert request.details["date"] == date


async def test_a_booking_within_the_rules_is_opened_once_per_key(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await _with_partner(sessions)
    async with sessions() as session:
        lee = await _lee(session, org)
        answers = {**FUNERAL, "relation": "아빠", "place": "  인천 남동구 가천장례식장 "}
        first = await open_booking(
            session,
            policyholder=lee,
            **answers,
            idempotency_key="ph1:booking_form:1.5",
            deadlines=Deadlines(),
        )
        again = await open_booking(
            session,
            policyholder=lee,
            **answers,
            idempotency_key="ph1:booking_form:1.5",
            deadlines=Deadlines(),
        )
        await session.commit()
    assert again.id == first.id
    assert first.kind == "funeral" and first.urgent
    assert first.summary == "장례 서비스: 아버지, 2026년 11월 23일 (월), 인천 남동구 가천장례식장"
    assert first.details == {
        "relation": "father",
        "date": "2026-11-23",
        "place": "인천 남동구 가천장례식장",
        "partner": "임종의 전화",
    }
    async with sessions() as session:
        assert await _counts(session) == (1, 1)  # one request, one alert


@pytest.mark.parametrize(
    ("problem", "kind", "said"),
    [
        (
            BookingProblem("ineligible", relation="in_law"),
            "wedding",
            texts.RELATION_INELIGIBLE.format(relation="배우자 쪽 가족", noun="결혼"),
        ),
        (BookingProblem("no_relation"), "moving", texts.RELATION_UNREADABLE),
        (BookingProblem("no_date"), "moving", texts.DATE_UNREADABLE),
        (
            BookingProblem("past_date", when=Month(2026, 10)),
            "moving",
            texts.DATE_PAST.format(date="2026년 10월 중"),
        ),
        (BookingProblem("no_place"), "funeral", texts.PLACE_TOO_SHORT),
        (BookingProblem("not_verified"), "funeral", texts.BOOKING_NOT_VERIFIED),
        (BookingProblem("unknown_kind"), "loan", texts.BOOKING_KIND_UNKNOWN),
    ],
    ids=lambda value: value.reason if isinstance(value, BookingProblem) else "",
)
def test_every_refusal_is_said_in_korean(problem: BookingProblem, kind: str, said: str) -> None:
    worded = refusal(problem, kind)
    assert worded == said
    assert "{" not in worded and any("가" <= ch <= "힣" for ch in worded)


def _submit(sender: str, slots: dict[str, Any]) -> dict[str, Any]:
    """A 네 reaching the submit with ``slots``, as a stale turn or a forged call would."""
    return {
        "next_action": "action_submit_booking",
        "tracker": {
            "sender_id": sender,
            "slots": {"booking_confirm": True, **slots},
            "latest_message": {"text": "네", "intent": {"name": "affirm"}, "entities": []},
            "events": [
                {"event": "user", "text": "네", "parse_data": {"intent": {"name": "affirm"}}}
            ],
            "active_loop": {},
        },
    }


SLOTS = {
    "booking_kind": "moving",
    "event_relation": "mother",
    "event_date": "2026-12-05",
    "event_place": "서울 마포구 공덕동",
}


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        # Given last week and confirmed only now: the move is over.
        (
            {"event_date": "2026-11-21"},
            [
                texts.DATE_PAST.format(date="2026년 11월 21일 (토)"),
                texts.BOOKING_NOT_SENT.format(noun="이사"),
            ],
        ),
        # Forged: an in-law's wedding, never asked by the form.
        (
            {"booking_kind": "wedding", "event_relation": "in_law"},
            [texts.RELATION_INELIGIBLE.format(relation="배우자 쪽 가족", noun="결혼")],
        ),
        # Forged: a date the form would have normalised.
        (
            {"event_date": "언젠가"},
            [texts.DATE_UNREADABLE, texts.BOOKING_NOT_SENT.format(noun="이사")],
        ),
        # Forged: no booking kind at all (it used to be taken as a move); nothing to say.
        ({"booking_kind": None}, []),
        ({"booking_kind": "loan"}, []),
    ],
    ids=["stale-date", "forged-in-law", "forged-date", "no-kind", "other-kind"],
)
async def test_a_stale_or_forged_submit_is_refused_with_the_reason(
    sessions: async_sessionmaker[AsyncSession], changes: dict[str, Any], said: list[str]
) -> None:
    org = await build_org(sessions)
    status, body = await run_action(
        sessions,
        _submit(sender_id_for(org.policyholder_id), {**SLOTS, **changes}),
        deadlines=Deadlines(),
    )
    assert status == 200
    assert [r["text"] for r in body["responses"]] == said
    assert {"event": "slot", "name": "booking_confirm", "value": None} in body["events"]
    async with sessions() as session:
        assert await _counts(session) == (0, 0)


async def test_a_submit_after_the_verification_was_revoked_opens_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    await _revoke_verification(sessions)
    _, body = await run_action(
        sessions, _submit(sender_id_for(org.policyholder_id), SLOTS), deadlines=Deadlines()
    )
    assert [r["text"] for r in body["responses"]] == [
        texts.BOOKING_NOT_VERIFIED,
        texts.BOOKING_NOT_SENT.format(noun="이사"),
    ]
    async with sessions() as session:
        assert await _counts(session) == (0, 0)


async def test_a_valid_submit_opens_the_booking_through_the_service(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    _, body = await run_action(
        sessions, _submit(sender_id_for(org.policyholder_id), SLOTS), deadlines=Deadlines()
    )
    assert "이사 서비스 요청을 접수했어요" in body["responses"][0]["text"]
    async with sessions() as session:
        request = await session.scalar(select(Request))
    assert request is not None
    assert request.summary == "이사 서비스: 어머니, 2026년 12월 5일 (토), 서울 마포구 공덕동"
    assert request.details["relation"] == "mother" and not request.urgent
