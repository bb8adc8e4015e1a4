"""Custom actions over the Rasa protocol: loan form validation against a seeded database."""

from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.actions.server import run_action, sender_id_for
from bot.clock import as_utc
from bot.config import Settings
from bot.conversation import screen_text
from bot.db import session_scope
from bot.db.models import Policyholder, Request
from bot.services.sla import Deadlines, add_business_hours
from bot.web import create_web_app


def tracker(
    sender: str, text: str, intent: str, slots: dict[str, Any], candidates: dict[str, Any]
) -> dict[str, Any]:
    events: list[dict[str, Any]] = [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
        *({"event": "slot", "name": k, "value": v} for k, v in candidates.items()),
    ]
    return {
        "sender_id": sender,
        "slots": {**slots, **candidates},
        "latest_message": {"text": text, "intent": {"name": intent}, "entities": []},
        "events": events,
        "active_loop": {"name": "loan_form"},
    }


async def _lee_sender(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with session_scope(sessions) as session:
        lee = await session.scalar(select(Policyholder).where(Policyholder.phone == "01055123087"))
        assert lee is not None
        return sender_id_for(lee.id)


async def test_loan_amount_over_the_limit_is_rejected(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sender = await _lee_sender(demo_sessions)
    slots = {"loan_policy": "KL-1994-000123"}
    status, body = await run_action(
        demo_sessions,
        {
            "next_action": "validate_loan_form",
            "tracker": tracker(sender, "9백만원", "inform", slots, {"loan_amount": "9백만원"}),
        },
        deadlines=Deadlines(),
    )
    assert status == 200
    assert {"event": "slot", "name": "loan_amount", "value": None} in body["events"]
    assert "최대 8,000,000원" in body["responses"][0]["text"]

    _, body = await run_action(
        demo_sessions,
        {
            "next_action": "validate_loan_form",
            "tracker": tracker(
                sender, "3백50만 원", "inform", slots, {"loan_amount": "3백50만 원"}
            ),
        },
        deadlines=Deadlines(),
    )
    assert {"event": "slot", "name": "loan_amount", "value": 3_500_000} in body["events"]
    assert body["responses"] == []


async def test_submit_persists_before_replying(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sender = await _lee_sender(demo_sessions)
    slots = {"loan_policy": "KL-1994-000123", "loan_amount": 3_000_000, "loan_confirm": True}
    _, body = await run_action(
        demo_sessions,
        {
            "next_action": "action_submit_loan",
            "tracker": tracker(sender, "네", "affirm", slots, {}),
        },
        deadlines=Deadlines(),
    )
    async with session_scope(demo_sessions) as session:
        request = await session.scalar(select(Request))
    assert request is not None and request.kind == "loan"
    assert request.reference in body["responses"][0]["text"]


async def test_unknown_action_is_a_protocol_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    status, body = await run_action(
        sessions, {"next_action": "action_nope", "tracker": {}}, deadlines=Deadlines()
    )
    assert status == 404 and body["action_name"] == "action_nope"


def test_screening_of_text_the_bot_should_not_read() -> None:
    assert screen_text("😀😀") == texts.EMPTY_OR_EMOJI
    assert screen_text("   ") == texts.EMPTY_OR_EMOJI
    assert screen_text("I want a loan") == texts.NOT_KOREAN
    assert screen_text("가" * 4097) == texts.TOO_LONG
    assert screen_text("KL-1994-000123") is None
    assert screen_text("대출 받고 싶어요") is None
    assert screen_text('/inform{"product":"KL-1994-000123"}') is None


async def test_the_web_app_gives_actions_the_deadlines_of_its_settings(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """`milchak web` serves the action endpoint too: a request opened through it gets the
    deadlines of the settings, not the defaults."""
    sender = await _lee_sender(demo_sessions)
    token = "deadline-test-" + "t" * 32
    settings = Settings(sla_loan_business_hours=1.0, action_token=SecretStr(token))
    app = create_web_app(demo_sessions, settings)
    slots = {"loan_policy": "KL-1994-000123", "loan_amount": 3_000_000, "loan_confirm": True}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://milchak") as client:
        response = await client.post(
            "/actions/webhook",
            params={"token": token},
            json={
                "next_action": "action_submit_loan",
                "tracker": tracker(sender, "네", "affirm", slots, {}),
            },
        )
    assert response.status_code == 200
    async with session_scope(demo_sessions) as session:
        request = await session.scalar(select(Request))
    assert request is not None and request.due_at is not None
    opened = as_utc(request.created_at)
    configured = Deadlines.from_settings(settings)
    assert as_utc(request.due_at) == add_business_hours(opened, 1.0, configured)
    assert as_utc(request.due_at) != add_business_hours(opened, 4.0, Deadlines())
