"""A 네 to the bot's offer opens the request offered, once per offer, and tells its reference."""

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
    yield freeze()
    set_clock(Clock())


def _yes_to(sender: str, offer_action: str, offer: str) -> dict[str, Any]:
    """The customer's 네 right after ``offer_action`` made ``offer``."""
    return {
        "next_action": "action_accept_offer",
        "tracker": {
            "sender_id": sender,
            "slots": {"pending_offer": offer},
            "latest_message": {"text": "네", "intent": {"name": "affirm"}, "entities": []},
            "events": [
                {"event": "action", "name": offer_action, "timestamp": 1_700_000_000.5},
                {"event": "user", "text": "네", "parse_data": {"intent": {"name": "affirm"}}},
            ],
            "active_loop": {},
        },
    }


@pytest.mark.parametrize(
    ("offer_action", "offer", "kind", "summary", "told"),
    [
        (
            "action_offer_callback",
            "callback",
            "callback",
            "담당 직원의 연락(전화)을 요청했어요.",
            texts.CALLBACK_DONE,
        ),
        (
            "action_offer_card",
            "card",
            "card",
            "국제-국민카드 발급을 신청했어요.",
            texts.CARD_DONE,
        ),
    ],
    ids=["callback", "card"],
)
async def test_yes_to_an_offer_opens_its_request_once(
    sessions: async_sessionmaker[AsyncSession],
    offer_action: str,
    offer: str,
    kind: str,
    summary: str,
    told: str,
) -> None:
    org = await build_org(sessions)
    payload = _yes_to(sender_id_for(org.policyholder_id), offer_action, offer)
    _, body = await run_action(sessions, payload, deadlines=Deadlines())
    _, again = await run_action(sessions, payload, deadlines=Deadlines())  # a turn re-sent
    async with sessions() as session:
        requests = list(await session.scalars(select(Request)))
    assert [(r.kind, r.summary) for r in requests] == [(kind, summary)]
    expected = told.format(reference=requests[0].reference, employee="박민수 대리")
    assert [r["text"] for r in body["responses"]] == [expected]
    assert [r["text"] for r in again["responses"]] == [expected]
    assert {"event": "slot", "name": "pending_offer", "value": None} in body["events"]
