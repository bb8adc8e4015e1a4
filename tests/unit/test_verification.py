"""Verification: own contact, number on file, birth date, five tries then a 30-minute lock."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db import session_scope
from bot.db.models import Policyholder
from bot.services import verification
from bot.services.verification import parse_birth_date

TODAY = date(2026, 11, 25)
USER = 4242


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("620417", date(1962, 4, 17)),
        ("051231", date(2005, 12, 31)),
        ("19620417", date(1962, 4, 17)),
        ("1962-04-17", date(1962, 4, 17)),
        ("1962.4.17", date(1962, 4, 17)),
        ("1962년 4월 17일", date(1962, 4, 17)),
        ("991301", None),
        ("4월 17일", None),
        ("", None),
    ],
)
def test_birth_date_forms(text: str, expected: date | None) -> None:
    assert parse_birth_date(text, TODAY) == expected


@pytest.fixture
def frozen() -> clock.FrozenClock:
    frozen = clock.FrozenClock(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    clock.set_clock(frozen)
    yield frozen
    clock.set_clock(clock.Clock())


async def test_verifies_with_own_contact_and_birth_date(
    demo_sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    async with session_scope(demo_sessions) as session:
        other = await verification.submit_contact(
            session, telegram_user_id=USER, contact_user_id=USER + 1, phone="010-5512-3087"
        )
        assert other.status == "not_own_contact"
        asked = await verification.submit_contact(
            session, telegram_user_id=USER, contact_user_id=USER, phone="+82 10 5512 3087"
        )
        assert asked.status == "need_birth" and asked.policyholder is not None
        assert asked.policyholder.name == "이영숙"
        done = await verification.submit_birth_date(
            session, telegram_user_id=USER, chat_id=USER, text="620417"
        )
        assert done.status == "verified"
    async with session_scope(demo_sessions) as session:
        holder = await verification.policyholder_for_telegram(session, USER)
        assert holder is not None and holder.telegram_chat_id == USER


async def test_five_wrong_tries_lock_for_thirty_minutes(
    demo_sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    async with session_scope(demo_sessions) as session:
        await verification.submit_contact(
            session, telegram_user_id=USER, contact_user_id=USER, phone="010-5512-3087"
        )
        outcomes = [
            await verification.submit_birth_date(
                session, telegram_user_id=USER, chat_id=USER, text="700101"
            )
            for _ in range(5)
        ]
    assert [o.status for o in outcomes] == ["wrong_birth"] * 4 + ["locked"]
    assert [o.tries_left for o in outcomes[:4]] == [4, 3, 2, 1]

    frozen.advance(timedelta(minutes=29))
    async with session_scope(demo_sessions) as session:
        still = await verification.submit_contact(
            session, telegram_user_id=USER, contact_user_id=USER, phone="010-5512-3087"
        )
    assert still.status == "locked"

    frozen.advance(timedelta(minutes=2))
    async with session_scope(demo_sessions) as session:
        again = await verification.submit_contact(
            session, telegram_user_id=USER, contact_user_id=USER, phone="010-5512-3087"
        )
        assert again.status == "need_birth"
        done = await verification.submit_birth_date(
            session, telegram_user_id=USER, chat_id=USER, text="1962-04-17"
        )
    assert done.status == "verified"


async def test_unknown_number_counts_as_a_wrong_try(
    demo_sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    async with session_scope(demo_sessions) as session:
        outcome = await verification.submit_contact(
            session, telegram_user_id=USER, contact_user_id=USER, phone="010-0000-0000"
        )
    assert outcome.status == "unknown_number" and outcome.tries_left == 4


@pytest.mark.postgres
@pytest.mark.parametrize("writer", ["mother", "son", "twin"])
async def test_a_shared_phone_is_told_apart_by_birth_date(
    sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock, writer: str
) -> None:
    """A family phone on file for three policyholders: the birth date decides who is writing,
    the same way every time (twins born the same day: the one on file first)."""
    births = {"mother": date(1962, 4, 17), "son": date(1990, 8, 3), "twin": date(1990, 8, 3)}
    async with session_scope(sessions) as session:
        holders = {
            who: Policyholder(
                name=name,
                phone="01077778888",
                birth_date=births[who],
                address="인천 남동구 만수동",
                area="인천 남동구",
            )
            for who, name in (("mother", "박순자"), ("son", "김도윤"), ("twin", "김도현"))
        }
        session.add_all(holders.values())
        await session.flush()
        # Rewriting the first row moves it behind the others in PostgreSQL's heap: a query
        # without ORDER BY would now meet it last.
        holders["mother"].address = "인천 남동구 만수동 2"
    async with session_scope(sessions) as session:
        asked = await verification.submit_contact(
            session, telegram_user_id=USER, contact_user_id=USER, phone="010-7777-8888"
        )
        assert asked.status == "need_birth"
        done = await verification.submit_birth_date(
            session, telegram_user_id=USER, chat_id=USER, text=f"{births[writer]:%y%m%d}"
        )
    expected = "박순자" if writer == "mother" else "김도윤"
    assert done.status == "verified" and done.policyholder is not None
    assert done.policyholder.name == expected
