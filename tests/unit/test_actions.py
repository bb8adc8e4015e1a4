"""Custom actions over the Rasa protocol: loan form validation against a seeded database."""

from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.actions import texts as actions_texts
from bot.actions.server import run_action, sender_id_for
from bot.clock import as_utc
from bot.config import Settings
from bot.conversation import screen_text
from bot.db import session_scope
from bot.db.models import Employee, Policyholder, Request
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


def outside_form(
    sender: str, text: str, intent: str, *, last_action: str | None = None, offer: str | None = None
) -> dict[str, Any]:
    """A tracker with no form running, whose latest user message follows ``last_action``."""
    events: list[dict[str, Any]] = [{"event": "user", "text": "앞선 메시지"}]
    if last_action is not None:
        events.append({"event": "action", "name": last_action})
    events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}})
    return {
        "sender_id": sender,
        "slots": {"pending_offer": offer},
        "latest_message": {"text": text, "intent": {"name": intent}, "entities": []},
        "events": events,
        "active_loop": {},
    }


async def _lee_employee(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with session_scope(sessions) as session:
        lee = await session.scalar(select(Policyholder).where(Policyholder.phone == "01055123087"))
        assert lee is not None and lee.employee_id is not None
        employee = await session.get(Employee, lee.employee_id)
        assert employee is not None
        return employee.display_name


async def test_asking_who_the_employee_is_names_them_whatever_the_intent(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sender = await _lee_sender(demo_sessions)
    employee = await _lee_employee(demo_sessions)
    for action, intent in (
        ("action_fallback", "nlu_fallback"),
        ("action_answer_policy", "ask_policy"),
        ("action_offer_callback", "contact_employee"),
    ):
        _, body = await run_action(
            demo_sessions,
            {
                "next_action": action,
                "tracker": outside_form(sender, "제 담당 설계사님 성함이 궁금해요", intent),
            },
            deadlines=Deadlines(),
        )
        assert employee in body["responses"][0]["text"], action
        assert {"event": "slot", "name": "pending_offer", "value": "callback"} in body["events"]
    # A complaint about the employee is not a question about who it is.
    _, body = await run_action(
        demo_sessions,
        {
            "next_action": "action_fallback",
            "tracker": outside_form(sender, "담당자가 전화를 통 안 받네요", "nlu_fallback"),
        },
        deadlines=Deadlines(),
    )
    assert employee not in body["responses"][0]["text"]


async def test_cancel_with_no_form_declines_the_offer_just_made(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sender = await _lee_sender(demo_sessions)
    after_offer = outside_form(
        sender, "연락은 안 할래요", "cancel", last_action="action_offer_callback", offer="callback"
    )
    _, body = await run_action(
        demo_sessions,
        {"next_action": "action_cancel_nothing_running", "tracker": after_offer},
        deadlines=Deadlines(),
    )
    assert body["responses"][0]["text"] == actions_texts.OFFER_DECLINED
    assert {"event": "slot", "name": "pending_offer", "value": None} in body["events"]

    nothing_offered = outside_form(sender, "안 할래요", "cancel", last_action="action_greet")
    _, body = await run_action(
        demo_sessions,
        {"next_action": "action_cancel_nothing_running", "tracker": nothing_offered},
        deadlines=Deadlines(),
    )
    assert body["responses"][0]["response"] == "utter_nothing_to_cancel"
