"""A long chat: Rasa starts new sessions as it grows (bot.rasa_tracker_store), and the customer
notices nothing — still verified, a form or an offer running across the limit is carried
through, every message stays in Rasa's store and in the ledger.

The end-to-end Rasa starts a new session after ``E2E_SESSION_EVENTS`` events (a few turns).
"""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.db.models import Contact
from tests.e2e.conftest import (
    E2E_SESSION_EVENTS,
    Customer,
    HolderPool,
    SessionWorld,
    reference_in,
    stored_request,
    texts_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _count(tracker_db: Path, sql: str, *params: str) -> int:
    with sqlite3.connect(tracker_db) as db:
        return int(db.execute(sql, params).fetchone()[0])


def session_starts(tracker_db: Path, sender: str) -> int:
    return _count(
        tracker_db,
        "SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'session_started'",
        sender,
    )


def current_session_events(tracker_db: Path, sender: str) -> int:
    """How many events Rasa loads for ``sender``'s next message (its latest session)."""
    return _count(
        tracker_db,
        "SELECT count(*) FROM events WHERE sender_id = ? AND timestamp >= (SELECT max(timestamp)"
        " FROM events WHERE sender_id = ? AND type_name = 'session_started')",
        sender,
        sender,
    )


def user_messages(tracker_db: Path, sender: str) -> int:
    """Every message of ``sender`` Rasa stored, in all sessions."""
    return _count(
        tracker_db, "SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'user'", sender
    )


async def test_a_long_chat_keeps_rasas_session_short_and_loses_nothing(
    world: SessionWorld, holders: HolderPool
) -> None:
    customer = Customer(world.stack.telegram, holders.take_last())
    await customer.verify()
    assert customer.holder is not None
    sender, store = f"ph{customer.holder.id}", world.rasa.tracker_db
    said = 0

    async def say(text: str) -> str:
        nonlocal said
        said += 1
        replies = texts_of(await customer.say(text))
        assert "본인 확인" not in replies  # still verified: served, never asked again
        return replies

    for _ in range(12):
        assert "천만에요" in await say("고마워요")
        assert current_session_events(store, sender) < E2E_SESSION_EVENTS + 10
    assert session_starts(store, sender) >= 2  # Rasa's own first one, then a new one
    assert "KL-" in await say("내 보험 뭐 있는지 알려주세요")

    # A funeral booking that runs across the limit is not cut in the middle.
    while current_session_events(store, sender) < E2E_SESSION_EVENTS - 12:
        await say("고마워요")
    starts = session_starts(store, sender)
    await say("아버지가 돌아가셨어요 장례 좀 도와주세요")
    await say("내일")
    said += 1
    confirm = await customer.say("인천 길병원 장례식장")
    assert current_session_events(store, sender) > E2E_SESSION_EVENTS
    assert session_starts(store, sender) == starts
    said += 1
    done = await customer.press(confirm[-1], "네")
    request = await stored_request(world, reference_in(done))
    assert request.kind == "funeral" and "길병원" in request.details["place"]
    assert session_starts(store, sender) == starts + 1  # once submitted, a new session

    # An offer made just before the limit still takes its 네.
    while current_session_events(store, sender) < E2E_SESSION_EVENTS - 8:
        await say("고마워요")
    starts = session_starts(store, sender)
    said += 1
    offer = await customer.say("담당자랑 통화하고 싶어요")
    said += 1
    callback = await customer.press(offer[-1], "네, 연락 주세요")
    assert (await stored_request(world, reference_in(callback))).kind == "callback"
    assert session_starts(store, sender) <= starts + 1

    # Nothing forgotten: every message is in Rasa's store (all sessions) and in the ledger.
    assert user_messages(store, sender) == said
    async with session_scope(world.stack.sessions) as session:
        inbound = await session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(Contact.policyholder_id == customer.holder.id, Contact.direction == "in")
        )
    assert inbound is not None and inbound >= said
