"""A turn that times out never opens two requests.

Rasa is played by a stand-in that hands the customer's "네" to the app's real action server (as
Rasa does, with the message's ``metadata``) and then times out, before or after the action has
run — the two orders a slow Rasa can produce. The action server, the conversation layer and the
database are the real ones.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.actions.server import run_action, sender_id_for
from bot.clock import Clock, FrozenClock, set_clock
from bot.conversation import Inbound, handle_message
from bot.db.models import Contact, Request
from bot.rasa_client import BotReply, Parse, RasaUnavailable
from bot.services.sla import Deadlines
from tests.auxil.employees import Org, build_org, freeze
from tests.unit.test_loans import _policies

ACTIVATED_AT = 1_790_000_000.25  # when the loan form started, as Rasa stamps its events


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


def confirm_tracker(org: Org, metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Rasa's tracker at the loan form's "이대로 신청할까요?" answered with 네."""
    user = {
        "event": "user",
        "text": "네",
        "parse_data": {"intent": {"name": "affirm"}},
        "metadata": metadata or {},
    }
    return {
        "sender_id": sender_id_for(org.policyholder_id),
        "slots": {"loan_policy": "KL-1994-000123", "loan_amount": 3_000_000, "loan_confirm": True},
        "latest_message": {"text": "네", "intent": {"name": "affirm"}, "entities": []},
        "events": [
            {"event": "active_loop", "name": "loan_form", "timestamp": ACTIVATED_AT},
            {"event": "action", "name": "action_ask_loan_confirm", "timestamp": ACTIVATED_AT + 9},
            user,
        ],
        "active_loop": {},
    }


class SlowRasa:
    """Runs the submit action for each message and then, if told to, times out."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], org: Org) -> None:
        self.sessions = sessions
        self.org = org
        self.time_out = "after_action"  # or "before_action", or "no"
        self.late: dict[str, Any] | None = None
        self.answers: list[dict[str, Any]] = []

    async def turn(
        self, sender: str, text: str, *, metadata: dict[str, Any] | None = None
    ) -> tuple[Parse, list[BotReply]]:
        payload = {
            "next_action": "action_submit_loan",
            "tracker": confirm_tracker(self.org, metadata),
        }
        if self.time_out == "before_action":
            self.late = payload  # Rasa still has the action to run when the app gives up
            raise RasaUnavailable("ReadTimeout")
        _, body = await run_action(self.sessions, payload, deadlines=Deadlines())
        self.answers.append(body)
        if self.time_out == "after_action":
            raise RasaUnavailable("ReadTimeout")
        return Parse("affirm", 0.99), [BotReply(r["text"]) for r in body["responses"]]


async def _requests(sessions: async_sessionmaker[AsyncSession]) -> list[Request]:
    async with sessions() as session:
        return list(await session.scalars(select(Request).order_by(Request.id)))


async def _say_yes(
    sessions: async_sessionmaker[AsyncSession], rasa: SlowRasa, org: Org, update_id: int
) -> list[str]:
    outgoing = await handle_message(
        sessions,
        rasa,  # type: ignore[arg-type]
        Inbound(org.policyholder_id, "네", telegram_user_id=555001, update_id=update_id),
        deadlines=Deadlines(),
    )
    assert outgoing is not None
    return [o.text for o in outgoing]


async def test_action_first_then_timeout_tells_that_request(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    await _policies(sessions, org)
    rasa = SlowRasa(sessions, org)
    replies = await _say_yes(sessions, rasa, org, update_id=1)

    [loan] = await _requests(sessions)  # no outage request besides the loan
    assert loan.kind == "loan"
    assert replies == [texts.RASA_SLOW_OPENED.format(reference=loan.reference)]
    async with sessions() as session:
        said = await session.scalar(select(Contact).where(Contact.telegram_update_id == 1))
        assert said is not None and said.request_id == loan.id


async def test_timeout_first_then_a_late_action_opens_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    await _policies(sessions, org)
    rasa = SlowRasa(sessions, org)
    rasa.time_out = "before_action"
    replies = await _say_yes(sessions, rasa, org, update_id=1)
    [outage] = await _requests(sessions)
    assert outage.details["reason"] == "rasa_down"
    assert replies == [texts.RASA_DOWN.format(reference=outage.reference)]

    assert rasa.late is not None
    status, body = await run_action(
        sessions, rasa.late, deadlines=Deadlines()
    )  # Rasa gets to the action at last
    assert status == 200 and body["responses"] == []
    # The form is forgotten, so a later "네" does not submit this turn's loan after all.
    assert {"event": "active_loop", "name": None} in body["events"]
    assert {"event": "slot", "name": "loan_confirm", "value": None} in body["events"]
    assert [r.kind for r in await _requests(sessions)] == ["question"]


async def test_a_second_yes_after_a_lost_turn_finds_the_same_loan(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Rasa's handling was cancelled after the action committed: its tracker still waits at
    the confirmation, and the customer's next 네 submits the same form run again."""
    org = await build_org(sessions)
    await _policies(sessions, org)
    rasa = SlowRasa(sessions, org)
    await _say_yes(sessions, rasa, org, update_id=1)
    rasa.time_out = "no"
    replies = await _say_yes(sessions, rasa, org, update_id=2)

    [loan] = await _requests(sessions)
    assert any(loan.reference in reply for reply in replies), replies
    async with sessions() as session:
        turns = list(
            await session.scalars(
                select(Contact.request_id).where(Contact.telegram_update_id.in_([1, 2]))
            )
        )
    assert turns == [loan.id, loan.id]
