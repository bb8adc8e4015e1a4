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

Rasa finds the latest session with ``max(timestamp) … where sender_id = ? and type_name =
'session_started'`` and then reads ``sender_id = ? and timestamp >= that``, on every load and
every save; its only index is on ``sender_id``, so both walked the sender's whole history and a
turn still got dearer as the conversation grew (``bench/tracker_store.py``). The store adds the
two indexes those queries need, ``(sender_id, type_name, timestamp)`` and ``(sender_id,
timestamp)``, when it starts (if they are missing).

It also runs those queries, and the insert of a turn's new events, as SQLAlchemy Core statements
built once. Rasa built each as an ORM query per call and loaded every row as an ORM object: a
quarter of a Rasa process's CPU went to loading and saving trackers, most of it in SQLAlchemy's
query building and object bookkeeping, not in the database (py-spy, stop 22). The statements
are Rasa's own (same filters, same order, same columns written), so the table is unchanged.

Runs inside Rasa's virtualenv (loaded by endpoints.yml): standard library and Rasa only.
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.open_questions import SKIPPED_ACTIONS, question_open

log = logging.getLogger(__name__)

DEFAULT_SESSION_EVENTS = 40  # bot.tracker_store's (this module cannot import the app's)
# What Rasa's latest-session lookup and its read of that session filter on.
SESSION_INDEXES = {
    "ix_events_sender_type_time": "sender_id, type_name, timestamp",
    "ix_events_sender_time": "sender_id, timestamp",
}
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
        self._add_session_indexes()
        self._queries = EventQueries(self.SQLEvent.__table__)

    def _add_session_indexes(self) -> None:
        """The indexes Rasa's latest-session queries need (see the module's docstring).

        Plain DDL, not ``sa.Index`` objects: those would attach to Rasa's shared table
        metadata, and the next store's ``create_all`` on a new database would build them twice.
        """
        table = self.SQLEvent.__tablename__
        for name, columns in SESSION_INDEXES.items():
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")
                    )
            except sa.exc.DatabaseError:
                # PostgreSQL: another Rasa replica, starting at the same moment, made it.
                log.info("index %s was being created by another process", name, exc_info=True)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        query = (
            self._queries.every_session if fetch_events_from_all_sessions else self._queries.session
        )
        with self.session_scope() as session:
            rows = session.execute(query, {"sender": sender_id}).scalars().all()
        if not (self.domain and rows):
            return None
        return DialogueStateTracker.from_dict(
            sender_id, [json.loads(data) for data in rows], self.domain.slots
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        # The tracker holds the current session's events (loaded by ``retrieve``) and this
        # turn's; the ones not stored yet are written, the new session's with them.
        if len(tracker.events) >= self.session_events and quiet(tracker):
            log.debug(
                "starting a new session for %s after %d events",
                tracker.sender_id,
                len(tracker.events),
            )
            for event in new_session_events(tracker):
                tracker.update(event)
        await self.stream_events(tracker)
        with self.session_scope() as session:
            stored = session.execute(self._queries.stored, {"sender": tracker.sender_id}).scalar()
            rows = [
                event_row(tracker.sender_id, event)
                for event in itertools.islice(tracker.events, stored, None)
            ]
            if rows:
                session.execute(self._queries.insert, rows)
            session.commit()


def event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The columns Rasa's ``SQLTrackerStore.save`` writes for one event."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


class EventQueries:
    """Rasa's tracker-store queries on its events table, as Core statements built once (the
    sender is the bound parameter ``sender``)."""

    def __init__(self, events: sa.Table):
        of_sender = events.c.sender_id == sa.bindparam("sender")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(of_sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        # Rasa's condition: at or after the latest session start, or every event when the
        # conversation never started a session. Rasa spells the second case "or the start is
        # null", which no index can serve: the database then walked the sender's whole history
        # (1 ms at 5,000 events on SQLite). A start of minus infinity means the same and leaves
        # a range on the (sender_id, timestamp) index.
        in_session = events.c.timestamp >= sa.func.coalesce(session_start, float("-inf"))
        self.every_session = sa.select(events.c.data).where(of_sender).order_by(events.c.id)
        # Ordered by ``id + 0``, the same order: SQLite would otherwise walk the sender's
        # (id-ordered) index to spare itself sorting a session's few dozen rows.
        self.session = (
            sa.select(events.c.data).where(of_sender, in_session).order_by(events.c.id + 0)
        )
        self.stored = sa.select(sa.func.count()).select_from(events).where(of_sender, in_session)
        self.insert = events.insert()
