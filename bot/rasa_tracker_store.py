"""Rasa's SQL tracker store, starting a new session when a conversation has grown long.

Rasa loads a conversation's current session from the store on every message, replays all of
it, and posts all of it to the action server with every custom action. A session ends only
after ``session_expiration_time`` (60 minutes) of silence, so a busy chat's turn got dearer with
every message: 350 ms at the 1st message of one policyholder, 2,750 ms at the 500th.

This store keeps every event (``retrieve_full_tracker`` and the table still hold the whole
conversation; the app's ledger keeps every message anyway). When it saves a turn after which
the session holds ``session_events`` events or more, and the bot is not waiting for an answer
(no form running, no slot asked, no offer or question open — ``bot.open_questions``), it
appends the events Rasa's own ``action_session_start`` writes: a ``session_started`` marker, every
slot that holds a value (carried over, so nothing the bot knows is lost) and ``action_listen``.
Rasa's ``SQLTrackerStore.retrieve`` loads only the events from the latest ``session_started``
on, so the next turn replays and posts that short tail. This is what happens anyway after an
hour of silence, except that the slots survive.

Runs inside Rasa's virtualenv (loaded by endpoints.yml): standard library and Rasa only.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.open_questions import SKIPPED_ACTIONS, question_open

log = logging.getLogger(__name__)

DEFAULT_SESSION_EVENTS = 200
# Slots that say the bot is inside a question-and-answer step.
ASKED_SLOT = "requested_slot"
OFFER_SLOT = "pending_offer"
# Not carried: the metadata of the message that opened the old session (Rasa's bookkeeping)
# and the asked slot (empty at a quiet point anyway).
NOT_CARRIED = frozenset({"session_started_metadata", ASKED_SLOT})


def last_bot_action(tracker: DialogueStateTracker) -> str | None:
    """The bot's last own action since the customer's latest message (as the actions see it)."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name not in SKIPPED_ACTIONS:
            return event.action_name
        if event.type_name == "user":
            return None
    return None


def quiet(tracker: DialogueStateTracker) -> bool:
    """Whether the bot waits for a new message with nothing asked that the message may answer."""
    return (
        tracker.latest_action_name == ACTION_LISTEN_NAME
        and tracker.active_loop_name is None
        and tracker.get_slot(ASKED_SLOT) is None
        and not question_open(tracker.get_slot(OFFER_SLOT), last_bot_action(tracker))
    )


def new_session_events(tracker: DialogueStateTracker) -> list[Event]:
    """What ``action_session_start`` writes, carrying over every slot that holds a value.

    The ``action_session_start`` step gets the marker's timestamp, as in a session Rasa starts
    itself, so that it is loaded with the session it opens.
    """
    started = SessionStarted()
    carried = [
        SlotSet(name, slot.value)
        for name, slot in tracker.slots.items()
        if name not in NOT_CARRIED and slot.value != slot.initial_value
    ]
    return [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=started.timestamp),
        started,
        *carried,
        ActionExecuted(ACTION_LISTEN_NAME),
    ]


class SessionRollingTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that starts a new session after ``session_events`` events, at a quiet
    point; endpoints.yml names it with the usual SQL settings."""

    def __init__(
        self, *args: Any, session_events: int | str = DEFAULT_SESSION_EVENTS, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.session_events = int(session_events)

    async def save(self, tracker: DialogueStateTracker) -> None:
        # The tracker holds the current session's events (loaded by ``retrieve``) and this
        # turn's; the parent stores those it has not stored yet, the new session's with them.
        if len(tracker.events) >= self.session_events and quiet(tracker):
            log.debug(
                "starting a new session for %s after %d events",
                tracker.sender_id,
                len(tracker.events),
            )
            for event in new_session_events(tracker):
                tracker.update(event)
        await super().save(tracker)
