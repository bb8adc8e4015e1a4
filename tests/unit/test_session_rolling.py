"""Rasa's tracker store starts a new session when a conversation grows long, at a quiet point.

The store (``bot.rasa_tracker_store``) is built by Rasa itself from our endpoints.yml and domain,
in Rasa's Python, on a SQLite file; turns are written as Rasa writes them (user message, the
bot's action and reply, slots, ``action_listen``) and read back as Rasa reads them on the next
message (``retrieve``: the latest session only).
"""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT
from bot.lock_store import lock_store_environment
from bot.tracker_store import tracker_store_environment

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
SESSION_EVENTS = 30

_CONVERSATION = """
import asyncio, json
import sqlalchemy
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet, UserUttered,
)
from rasa.utils.endpoints import read_endpoint_config

SENDER = "ph7"
seen = {"store": None, "loaded": [], "sessions": []}

async def turn(store, text, intent, action, *events):
    # One turn as Rasa writes it; returns what Rasa loaded for it.
    tracker = await store.get_or_create_tracker(SENDER)
    seen["loaded"].append(len(tracker.events))
    tracker.update(UserUttered(text, {"name": intent, "confidence": 1.0}))
    tracker.update(ActionExecuted(action))
    tracker.update(BotUttered(f"reply to {text}"))
    for event in events:
        tracker.update(event)
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    after = await store.retrieve(SENDER)
    seen["sessions"].append(
        sum(isinstance(e, SessionStarted) for e in (await store.retrieve_full_tracker(SENDER)).events)
    )
    return after

async def main():
    domain = Domain.load("domain.yml")
    store = create_tracker_store(read_endpoint_config("endpoints.yml", "tracker_store"), domain)
    seen["store"] = type(getattr(store, "_tracker_store", store)).__name__
    await turn(store, "결혼식 예약이요", "book_wedding", "action_greet",
               SlotSet("booking_kind", "wedding"))
    for n in range(40):
        await turn(store, f"안녕하세요 {n}", "greet", "action_greet")
    seen["kept_slot"] = (await store.retrieve(SENDER)).get_slot("booking_kind")
    seen["greeting_sessions"] = seen["sessions"][-1]

    # A form runs across the limit: nothing is cut while it asks.
    form = await turn(store, "대출 받고 싶어요", "request_loan", "loan_form",
                      ActiveLoop("loan_form"), SlotSet("requested_slot", "loan_amount"))
    form_sessions = seen["sessions"][-1]
    for n in range(12):
        form = await turn(store, f"{n}백만 원이요", "inform", "loan_form",
                          SlotSet("loan_amount", f"{n}00만"), SlotSet("requested_slot", "loan_amount"))
    seen["form_open"] = {
        "sessions_added": seen["sessions"][-1] - form_sessions,
        "active_loop": form.active_loop_name,
        "events": len(form.events),
        "user_texts": [e.text for e in form.events if isinstance(e, UserUttered)],
    }
    done = await turn(store, "네", "affirm", "action_submit_loan",
                      ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("loan_amount", None))
    seen["form_done"] = {"sessions_added": seen["sessions"][-1] - form_sessions,
                         "events": len(done.events)}

    # An offer waits for 네 / 아니요: the offer stays the previous action until answered.
    for n in range(SESSION_EVENTS):
        await turn(store, f"고마워요 {n}", "thank", "utter_you_are_welcome")
        if len((await store.retrieve(SENDER)).events) >= SESSION_EVENTS - 5:
            break
    offer_sessions = seen["sessions"][-1]
    offered = await turn(store, "담당자와 통화하고 싶어요", "contact_employee", "action_offer_callback",
                         SlotSet("pending_offer", "callback"))
    seen["offer_open"] = {"sessions_added": seen["sessions"][-1] - offer_sessions,
                          "pending_offer": offered.get_slot("pending_offer"),
                          "events": len(offered.events)}
    await turn(store, "아니요", "deny", "action_decline_offer", SlotSet("pending_offer", None))
    seen["offer_done_sessions_added"] = seen["sessions"][-1] - offer_sessions

    full = await store.retrieve_full_tracker(SENDER)
    seen["stored_user_messages"] = sum(isinstance(e, UserUttered) for e in full.events)
    seen["turns"] = len(seen["loaded"])
    latest = await store.retrieve(SENDER)
    seen["latest_starts_like_rasa"] = [e.type_name for e in list(latest.events)[:2]]

    # How SQLite runs Rasa's latest-session read (the load and the save's count).
    inner = getattr(store, "_tracker_store", store)
    with inner.session_scope() as session:
        query = inner._event_query(session, SENDER, fetch_events_from_all_sessions=False)
        sql = str(query.statement.compile(compile_kwargs={"literal_binds": True}))
        plan = session.execute(sqlalchemy.text("EXPLAIN QUERY PLAN " + sql)).fetchall()
    seen["plan"] = " | ".join(str(row[-1]) for row in plan)

asyncio.run(main())
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not RASA_PYTHON.exists():
        pytest.skip("no Rasa virtualenv (`make setup`)")
    tmp = tmp_path_factory.mktemp("rolling")
    done = subprocess.run(
        [
            str(RASA_PYTHON),
            "-W",
            "ignore",
            "-c",
            _CONVERSATION.replace("SESSION_EVENTS", str(SESSION_EVENTS)),
        ],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "MILCHAK_ACTION_ENDPOINT": "http://127.0.0.1:1/actions/webhook",
            "MILCHAK_ACTION_TOKEN": "unit-action-token-0123456789",
            **tracker_store_environment(
                f"sqlite:///{tmp / 'trackers.db'}",
                base_dir=Path(tmp),
                session_events=SESSION_EVENTS,
            ),
            **lock_store_environment(None),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_rasa_builds_the_rolling_store_from_our_endpoints(conversation: dict[str, Any]) -> None:
    assert conversation["store"] == "SessionRollingTrackerStore"


def test_what_rasa_loads_per_turn_stays_bounded(conversation: dict[str, Any]) -> None:
    # The first 41 turns greet: 4 events each (5 for the first), and the new session's 4.
    greetings = conversation["loaded"][:41]
    assert max(greetings) <= SESSION_EVENTS + 5
    assert conversation["greeting_sessions"] >= 5  # 41 turns of ~5 events, ~30 per session


def test_nothing_is_forgotten(conversation: dict[str, Any]) -> None:
    assert conversation["stored_user_messages"] == conversation["turns"]
    assert conversation["kept_slot"] == "wedding"  # a slot set in the first session


def test_a_form_in_progress_is_not_cut(conversation: dict[str, Any]) -> None:
    form = conversation["form_open"]
    assert form["sessions_added"] == 0
    assert form["active_loop"] == "loan_form"
    assert form["events"] > SESSION_EVENTS
    assert "대출 받고 싶어요" in form["user_texts"]  # the message that started the form
    # Once submitted, the next save starts a new session.
    assert conversation["form_done"]["sessions_added"] == 1
    assert conversation["form_done"]["events"] < SESSION_EVENTS


def test_an_open_offer_is_not_cut(conversation: dict[str, Any]) -> None:
    offer = conversation["offer_open"]
    assert offer["events"] >= SESSION_EVENTS
    assert offer["sessions_added"] == 0
    assert offer["pending_offer"] == "callback"
    assert conversation["offer_done_sessions_added"] == 1


def test_a_new_session_begins_as_rasas_own(conversation: dict[str, Any]) -> None:
    assert conversation["latest_starts_like_rasa"] == ["action", "session_started"]


def test_the_latest_session_is_found_by_index_not_by_reading_the_whole_history(
    conversation: dict[str, Any],
) -> None:
    # Rasa's own index (sender_id) alone made every load read all of a sender's events.
    plan = conversation["plan"]
    assert "ix_events_sender_type_time" in plan, plan
    assert "ix_events_sender_time" in plan, plan
