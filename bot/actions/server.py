"""The /actions/webhook endpoint Rasa calls: find the action, run it in one transaction."""

import logging
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.actions import booking, complaint, conversation, loan, texts
from bot.actions.common import FORM_SLOTS, reset_form
from bot.actions.sdk import Action, Context, Dispatcher, Event, Tracker, active_loop
from bot.config import get_settings
from bot.db import session_scope
from bot.db.models import Policyholder
from bot.services.sla import Deadlines
from bot.services.turns import TurnTaken
from bot.tokens import bearer, token_matches

log = logging.getLogger(__name__)

SENDER_PREFIX = "ph"


def sender_id_for(policyholder_id: int) -> str:
    """Rasa conversation id of a policyholder."""
    return f"{SENDER_PREFIX}{policyholder_id}"


def policyholder_id_from(sender_id: str) -> int | None:
    if sender_id.startswith(SENDER_PREFIX) and sender_id[len(SENDER_PREFIX) :].isdigit():
        return int(sender_id[len(SENDER_PREFIX) :])
    return None


def _collect_actions() -> dict[str, Action]:
    registry: dict[str, Action] = {}
    for module in (conversation, loan, booking, complaint):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Action) and "name" in vars(value):
                registry[value.name] = value()
    return registry


ACTIONS = _collect_actions()


async def run_action(
    sessions: async_sessionmaker[AsyncSession], payload: dict[str, Any], *, deadlines: Deadlines
) -> tuple[int, dict[str, Any]]:
    """Run the action Rasa asks for; return the HTTP status and body of the protocol."""
    name = str(payload.get("next_action", ""))
    action = ACTIONS.get(name)
    if action is None:
        return 404, {"error": f"No registered action found for name '{name}'.", "action_name": name}
    tracker = Tracker.from_dict(payload.get("tracker") or {})
    policyholder_id = policyholder_id_from(tracker.sender_id)
    dispatcher = Dispatcher()
    try:
        async with session_scope(sessions) as session:
            policyholder = (
                await session.get(Policyholder, policyholder_id) if policyholder_id else None
            )
            if policyholder is None:
                raise LookupError(f"unknown conversation {tracker.sender_id!r}")
            context = Context(session, policyholder, deadlines, turn_contact_id=tracker.turn)
            events = await action.run(dispatcher, tracker, context)
    except TurnTaken:
        # The app stopped waiting for Rasa and handed this message to a person; nothing was
        # opened here. Forget the forms so a later "네" does not submit this turn's form again.
        log.warning(
            "action %s for %s came after the app gave up on the turn", name, tracker.sender_id
        )
        return 200, {"events": forget_forms(), "responses": []}
    except Exception:
        # Nothing was committed: the customer is told so rather than told it was received.
        log.exception("action %s failed for %s", name, tracker.sender_id)
        problem = texts.PROBLEM.format(phone=get_settings().company_phone)
        return 200, {"events": [], "responses": [{"text": problem}]}
    return 200, {"events": events, "responses": dispatcher.messages}


def forget_forms() -> list[Event]:
    """Events that stop any form and clear every form's answers."""
    events = [active_loop(None)]
    for form in FORM_SLOTS:
        events += reset_form(form)
    return events


async def action_webhook(request: Request) -> JSONResponse:
    """Rasa's action server protocol (POST /actions/webhook), for callers with the action token.

    Rasa sends the token as ``?token=`` (endpoints.yml); a Bearer header is accepted too.
    """
    presented = request.query_params.get("token") or bearer(request.headers.get("authorization"))
    state = request.app.state
    if not token_matches(presented, state.settings.action_token):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    # Rasa posts the whole tracker with every call: orjson reads it in a fraction of the time.
    payload = orjson.loads(await request.body())
    status, body = await run_action(state.sessions, payload, deadlines=state.deadlines)
    return JSONResponse(body, status_code=status)


async def action_health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "actions": sorted(ACTIONS)})
