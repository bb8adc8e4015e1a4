"""Rasa's action-server protocol: the tracker we receive, the messages and events we return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Policyholder
from bot.services.sla import Deadlines

Event = dict[str, Any]


def slot_set(name: str, value: Any) -> Event:
    return {"event": "slot", "name": name, "value": value}


def active_loop(name: str | None) -> Event:
    return {"event": "active_loop", "name": name}


def followup(action: str) -> Event:
    """Run ``action`` next, without asking the policies (Rasa's FollowupAction)."""
    return {"event": "followup", "name": action}


def button(title: str, payload: str) -> dict[str, str]:
    return {"title": title, "payload": payload}


@dataclass
class Tracker:
    """The parts of Rasa's tracker state the actions read."""

    sender_id: str
    slots: dict[str, Any]
    latest_message: dict[str, Any]
    events: list[Event]
    active_loop_name: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tracker:
        return cls(
            sender_id=str(data.get("sender_id", "")),
            slots=dict(data.get("slots") or {}),
            latest_message=dict(data.get("latest_message") or {}),
            events=list(data.get("events") or []),
            active_loop_name=(data.get("active_loop") or {}).get("name"),
        )

    def get_slot(self, name: str) -> Any:
        return self.slots.get(name)

    @property
    def text(self) -> str:
        return str(self.latest_message.get("text") or "")

    @property
    def intent(self) -> str | None:
        return (self.latest_message.get("intent") or {}).get("name")

    @property
    def turn(self) -> int | None:
        """The app's ledger row of the message being answered (``metadata.turn``), if sent."""
        metadata = self.latest_message.get("metadata")
        for event in reversed(self.events):
            if event.get("event") == "user":
                metadata = event.get("metadata") or metadata
                break
        turn = metadata.get("turn") if isinstance(metadata, dict) else None
        return turn if isinstance(turn, int) and not isinstance(turn, bool) else None

    def timestamp_of_last(self, event_type: str, name: str) -> float | None:
        """When the latest ``event_type`` event called ``name`` happened (Rasa's timestamp)."""
        for event in reversed(self.events):
            if event.get("event") == event_type and event.get("name") == name:
                stamp = event.get("timestamp")
                return float(stamp) if isinstance(stamp, int | float) else None
        return None

    @property
    def requested_slot(self) -> str | None:
        value = self.slots.get("requested_slot")
        return str(value) if value else None

    def bot_texts_this_turn(self) -> list[str]:
        """What the bot has said since the latest user message."""
        said = []
        for event in reversed(self.events):
            if event.get("event") == "user":
                break
            if event.get("event") == "bot":
                said.append(str(event.get("text") or ""))
        return said[::-1]

    def slots_to_validate(self) -> dict[str, Any]:
        """Slots filled since the last user message: the candidates a form validator checks."""
        candidates: dict[str, Any] = {}
        for event in reversed(self.events):
            if event.get("event") == "user":
                break
            if event.get("event") == "slot" and event.get("name") != "requested_slot":
                candidates.setdefault(str(event["name"]), event.get("value"))
        return candidates

    def last_user_texts(self, intents: set[str]) -> list[str]:
        """Texts of past user messages whose intent is in ``intents``, newest first."""
        return [
            str(e.get("text") or "")
            for e in reversed(self.events)
            if e.get("event") == "user"
            and (e.get("parse_data") or {}).get("intent", {}).get("name") in intents
        ]


@dataclass
class Dispatcher:
    """Collects the messages an action sends back to the user."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, buttons: list[dict[str, str]] | None = None) -> None:
        self.messages.append({"text": text, "buttons": buttons or []})

    def utter(self, response: str) -> None:
        """Send a response defined in domain.yml."""
        self.messages.append({"response": response})


@dataclass
class Context:
    """What an action may use: a database session, the policyholder it is talking to, and the
    acknowledgement deadlines a request it opens gets.

    ``turn_contact_id`` is the ledger row of the message this action answers, when the app sent
    it along (see ``bot.services.turns``).
    """

    session: AsyncSession
    policyholder: Policyholder
    deadlines: Deadlines
    turn_contact_id: int | None = None


class Action:
    """One custom action; ``name`` matches domain.yml exactly."""

    name: ClassVar[str]

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        raise NotImplementedError


class FormValidator(Action):
    """Validates a form's slot candidates with ``validate_<slot>`` methods, like rasa_sdk.

    A method returns the slot events to apply; returning ``{slot: None}`` rejects the value so
    the form asks again.
    """

    # The form's own slots; others set in the same turn (booking_kind from any book_* intent)
    # are not this form's answers, and returning them would stop Rasa from rejecting the form
    # when the message answered nothing (so a topic switch would never reach its rule).
    form_slots: ClassVar[frozenset[str] | None] = None

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        events: list[Event] = []
        changes: dict[str, Any] = {}
        for slot, value in tracker.slots_to_validate().items():
            if self.form_slots is not None and slot not in self.form_slots:
                continue
            validate = getattr(self, f"validate_{slot}", None)
            result = await validate(value, dispatcher, tracker, ctx) if validate else {slot: value}
            changes.update(result)
        changes.update(await self.after_validation(changes, dispatcher, tracker, ctx))
        events.extend(slot_set(name, value) for name, value in changes.items())
        return events

    async def after_validation(
        self, changes: dict[str, Any], dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        """Hook for cross-slot logic (prefill, ending the form early)."""
        return {}
