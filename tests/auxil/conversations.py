"""Conversation tests (tests/conversations/*.yml, format in tests/conversations/README.md): load
them, drive each one through the real stack as the verified demo policyholder 이영숙, and check
every turn's expectations.

Which slot a bot reply asks is read from the question texts the actions send (imported from
``bot.actions.texts`` and ``domain.yml``), so the map cannot drift from what customers see.
Each conversation starts fresh: Rasa's tracker of 이영숙 is restarted through its HTTP API.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.actions import texts
from bot.actions.server import sender_id_for
from bot.clock import Clock
from bot.db import session_scope
from bot.db.models import Contact, ContactSender, Employee, Policy, Policyholder, Request
from bot.demo.seed import LEE_YOUNGSOOK
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import RASA_TOKEN, app_stack, rasa_server, seeded_database

NOW_ENV = "MILCHAK_NOW"

ROOT = Path(__file__).resolve().parents[2]
CONVERSATIONS_DIR = ROOT / "tests" / "conversations"
REFERENCE_NOW = "2026-11-25T10:00:00+09:00"  # every conversation file is written for this
TURN_TIMEOUT = 30.0

SLOTS = (
    "booking_kind",
    "event_relation",
    "event_date",
    "event_place",
    "booking_confirm",
    "loan_policy",
    "loan_amount",
    "loan_confirm",
    "complaint_category",
    "complaint_details",
)
KINDS = (
    "complaint",
    "suggestion",
    "loan",
    "moving",
    "funeral",
    "wedding",
    "callback",
    "card",
    "question",
)
TURN_KEYS = {
    "user",
    "asks",
    "opens",
    "declines",
    "cancels",
    "intent",
    "no_question",
    "names_employee",
}


def template_pattern(template: str) -> re.Pattern[str]:
    """A regex matching any text the ``str.format`` template can produce."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".*?".join(re.escape(p) for p in parts), re.DOTALL)


def domain_response(name: str) -> str:
    """The (first) text of a response in domain.yml."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return str(domain["responses"][name][0]["text"])


def _questions() -> dict[str, list[str]]:
    return {
        "booking_kind": [texts.ASK_BOOKING_KIND],
        "event_relation": list(texts.ASK_RELATION.values()),
        "event_date": list(texts.ASK_DATE.values()),
        "event_place": list(texts.ASK_PLACE.values()),
        "booking_confirm": [texts.BOOKING_CONFIRM],
        "loan_policy": [texts.LOAN_ASK_POLICY],
        "loan_amount": [texts.LOAN_ASK_AMOUNT],
        "loan_confirm": [texts.LOAN_CONFIRM],
        "complaint_category": [texts.ASK_COMPLAINT_CATEGORY],
        "complaint_details": [domain_response("utter_ask_complaint_details")],
    }


QUESTION_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    slot: [template_pattern(t) for t in templates] for slot, templates in _questions().items()
}
DECLINE_PATTERNS = [template_pattern(texts.RELATION_INELIGIBLE)]
CANCEL_PATTERNS = [
    template_pattern(texts.CANCELLED),
    template_pattern(texts.BOOKING_NOT_SENT),
    template_pattern(texts.LOAN_NOT_SENT),
]


def asked_slots(reply: str) -> set[str]:
    """The slots a bot message asks for (a question is the whole message, or its last line)."""
    return {
        slot
        for slot, patterns in QUESTION_PATTERNS.items()
        if any(p.fullmatch(reply.strip()) for p in patterns)
    }


def matches_any(replies: Iterable[str], patterns: list[re.Pattern[str]]) -> bool:
    return any(p.fullmatch(r.strip()) for r in replies for p in patterns)


# --------------------------------------------------------------------------- the files
@dataclass(frozen=True)
class Turn:
    user: str
    expect: dict[str, Any]


@dataclass(frozen=True)
class Conversation:
    file: str
    id: str
    note: str
    turns: tuple[Turn, ...]

    @property
    def name(self) -> str:
        return f"{self.file}::{self.id}"


def load_file(path: Path) -> list[Conversation]:
    """The conversations of one file; malformed entries raise ``ValueError`` naming them."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    seen: set[str] = set()
    for index, item in enumerate(data.get("conversations") or []):
        conv_id = str(item.get("id") or f"#{index}")
        if conv_id in seen:
            raise ValueError(f"{path.name}: duplicate conversation id {conv_id}")
        seen.add(conv_id)
        turns = []
        for number, raw in enumerate(item.get("turns") or [], 1):
            unknown = set(raw) - TURN_KEYS
            if unknown or "user" not in raw:
                raise ValueError(f"{path.name}::{conv_id} turn {number}: bad keys {sorted(raw)}")
            if raw.get("asks") is not None and raw["asks"] not in SLOTS:
                raise ValueError(
                    f"{path.name}::{conv_id} turn {number}: unknown slot {raw['asks']}"
                )
            opens = raw.get("opens")
            if opens is not None and opens.get("kind") not in KINDS:
                raise ValueError(f"{path.name}::{conv_id} turn {number}: unknown kind {opens}")
            expect = {k: v for k, v in raw.items() if k != "user"}
            if opens is not None:  # YAML reads 2026-11-30 as a date: compare the text form
                expect["opens"] = {
                    k: v.isoformat() if isinstance(v, date) else v for k, v in opens.items()
                }
            turns.append(Turn(str(raw["user"]), expect))
        found.append(Conversation(path.name, conv_id, str(item.get("note") or ""), tuple(turns)))
    return found


KNOWN_FAILURES = "known_failures.yml"  # conversation id → what goes wrong today, not a script


def conversation_files(directory: Path = CONVERSATIONS_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.yml") if p.name != KNOWN_FAILURES)


def known_failures(directory: Path = CONVERSATIONS_DIR) -> dict[str, str]:
    """Conversations that fail today, by name, with the reason."""
    return yaml.safe_load((directory / KNOWN_FAILURES).read_text(encoding="utf-8")) or {}


def load_all(directory: Path = CONVERSATIONS_DIR) -> list[Conversation]:
    return [c for path in conversation_files(directory) for c in load_file(path)]


# --------------------------------------------------------------------------- checking
@dataclass
class OpenedRequest:
    kind: str
    details: dict[str, Any]
    policy_number: str | None
    reference: str


@dataclass
class TurnOutcome:
    user: str
    expect: dict[str, Any]
    replies: list[str]
    intent: str | None
    opened: list[OpenedRequest]
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class ConversationOutcome:
    conversation: Conversation
    turns: list[TurnOutcome]

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.turns) and len(self.turns) == len(self.conversation.turns)

    def report(self) -> str:
        """The whole conversation, each turn with what the bot said and what went wrong."""
        lines = [f"conversation {self.conversation.name}"]
        if self.conversation.note:
            lines.append(f"  note: {self.conversation.note}")
        for number, turn in enumerate(self.turns, 1):
            mark = "ok  " if turn.passed else "FAIL"
            lines.append(f"  [{mark}] turn {number} 고객: {turn.user}")
            lines.append(f"         intent: {turn.intent}   expected: {turn.expect or '-'}")
            for reply in turn.replies:
                lines.append("         봇: " + reply.replace("\n", "\n             "))
            for request in turn.opened:
                lines.append(
                    f"         opened: {request.kind} {request.details}"
                    + (f" policy={request.policy_number}" if request.policy_number else "")
                )
            for problem in turn.problems:
                lines.append(f"         !! {problem}")
        return "\n".join(lines)


def _field_problems(expected: dict[str, Any], request: OpenedRequest) -> list[str]:
    problems = []
    details = request.details
    for key, want in expected.items():
        if key == "kind":
            continue
        if key == "place":
            got = str(details.get("place") or "")
            if str(want) not in got:
                problems.append(f"place {got!r} does not contain {want!r}")
        elif key == "policy":
            got = request.policy_number or details.get("policy_number")
            if got != str(want):
                problems.append(f"policy is {got!r}, expected {want!r}")
        elif key == "amount":
            if details.get("amount") != int(want):
                problems.append(f"amount is {details.get('amount')!r}, expected {want!r}")
        else:  # relation, date: stored as the normalised string
            if str(details.get(key)) != str(want):
                problems.append(f"{key} is {details.get(key)!r}, expected {want!r}")
    return problems


def check_turn(turn: TurnOutcome, employee: str = "") -> None:
    """Fill ``turn.problems`` from its expectations (see FORMAT in tests/conversations).

    ``employee`` is how the customer's assigned employee is named to her (김영환 기획부장).
    """
    expect = turn.expect
    problems = turn.problems
    if not turn.replies:
        problems.append("the bot did not answer")
    asked: set[str] = set()
    for reply in turn.replies:
        asked |= asked_slots(reply)
    want_slot = expect.get("asks")
    if want_slot is not None and want_slot not in asked:
        problems.append(f"expected a question for {want_slot}, asked {sorted(asked) or 'nothing'}")
    extra = asked - {want_slot}
    if extra:
        problems.append(f"asked {sorted(extra)}, which this turn does not expect")
    if expect.get("no_question") and asked:
        problems.append(f"expected no question, asked {sorted(asked)}")
    if "intent" in expect and turn.intent != expect["intent"]:
        problems.append(f"intent {turn.intent}, expected {expect['intent']}")
    wanted = expect.get("opens")
    if wanted is None:
        if turn.opened:
            problems.append(
                "opened " + ", ".join(r.kind for r in turn.opened) + " that this turn does not name"
            )
    else:
        same_kind = [r for r in turn.opened if r.kind == wanted["kind"]]
        if not same_kind:
            problems.append(f"expected a {wanted['kind']} request to be opened")
        else:
            problems.extend(_field_problems(wanted, same_kind[0]))
        others = [r for r in turn.opened if r is not (same_kind[0] if same_kind else None)]
        if others:
            problems.append("also opened " + ", ".join(r.kind for r in others))
    if expect.get("declines") == "not_eligible" and not matches_any(turn.replies, DECLINE_PATTERNS):
        problems.append("expected the polite 직계존비속 refusal")
    if expect.get("cancels") and not matches_any(turn.replies, CANCEL_PATTERNS):
        problems.append("expected the bot to say the request was dropped")
    if expect.get("names_employee") and not (
        employee and any(employee in reply for reply in turn.replies)
    ):
        problems.append(f"expected the reply to name her employee {employee or '(none assigned)'}")


# --------------------------------------------------------------------------- driving
class ConversationDriver:
    """Talks as one verified Telegram user (이영숙) through the fake Bot API."""

    def __init__(
        self,
        *,
        telegram: FakeTelegram,
        sessions: async_sessionmaker[AsyncSession],
        rasa_url: str,
        rasa_token: str,
        policyholder_id: int,
        user_id: int,
        employee: str = "",
    ) -> None:
        self.telegram = telegram
        self.employee = employee
        self.sessions = sessions
        self.rasa_url = rasa_url
        self.rasa_token = rasa_token
        self.policyholder_id = policyholder_id
        self.user_id = user_id

    async def restart(self) -> None:
        """Start a fresh Rasa conversation: no form, no slot, no pending offer."""
        sender = sender_id_for(self.policyholder_id)
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                f"{self.rasa_url}/conversations/{sender}/tracker/events",
                params={"token": self.rasa_token},
                json={"event": "restart"},
            )
            response.raise_for_status()

    async def _last_request_id(self, session: AsyncSession) -> int:
        return int(
            await session.scalar(
                select(func.coalesce(func.max(Request.id), 0)).where(
                    Request.policyholder_id == self.policyholder_id
                )
            )
            or 0
        )

    async def _intent(self, session: AsyncSession, contact_id: int) -> str | None:
        return await session.scalar(select(Contact.intent).where(Contact.id == contact_id))

    async def _replies(self, session: AsyncSession, contact_id: int) -> list[str]:
        """The bot's messages stored after the customer's message ``contact_id``."""
        rows = await session.scalars(
            select(Contact.text)
            .where(
                Contact.policyholder_id == self.policyholder_id,
                Contact.id > contact_id,
                Contact.direction == "out",
                Contact.sender == ContactSender.BOT,
            )
            .order_by(Contact.id)
        )
        return list(rows)

    async def say(self, text: str) -> tuple[list[str], str | None, list[OpenedRequest]]:
        """Send one message; return the bot's replies, the NLU intent, the requests opened."""
        async with session_scope(self.sessions) as session:
            last_request = await self._last_request_id(session)
        mark = len(self.telegram.sent(self.user_id))
        update_id = self.telegram.push_text(self.user_id, text)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TURN_TIMEOUT
        # The app stores the intent and the replies in one transaction, before sending them.
        while True:
            async with session_scope(self.sessions) as session:
                inbound = await session.scalar(
                    select(Contact).where(Contact.telegram_update_id == update_id)
                )
                replies: list[str] = []
                intent: str | None = None
                if inbound is not None:
                    # The intent first: replies read once it is visible are all there. Replies
                    # without an intent are a screened message's (or the commit fell between).
                    intent = await self._intent(session, inbound.id)
                    replies = await self._replies(session, inbound.id)
                    if intent is None and replies:
                        intent = await self._intent(session, inbound.id)
            if inbound is not None and (intent is not None or replies):
                break
            if loop.time() > deadline:
                raise TimeoutError(f"no answer to {text!r} within {TURN_TIMEOUT} s")
            await asyncio.sleep(0.02)
        # The replies are the ledger's (stored before they are sent, in order); they must also
        # reach the customer through the Bot API before the next turn.
        while missing := [
            r for r in replies if r not in [m.text for m in self.telegram.sent(self.user_id)[mark:]]
        ]:
            if loop.time() > deadline:
                raise AssertionError(f"replies to {text!r} not sent through the Bot API: {missing}")
            await asyncio.sleep(0.02)
        async with session_scope(self.sessions) as session:
            rows = list(
                await session.scalars(
                    select(Request)
                    .where(
                        Request.policyholder_id == self.policyholder_id,
                        Request.id > last_request,
                    )
                    .order_by(Request.id)
                )
            )
            opened = []
            for row in rows:
                policy = await session.get(Policy, row.policy_id) if row.policy_id else None
                opened.append(
                    OpenedRequest(
                        row.kind,
                        dict(row.details or {}),
                        policy.number if policy else None,
                        row.reference,
                    )
                )
        return replies, intent, opened

    async def run(self, conversation: Conversation) -> ConversationOutcome:
        """Play every turn of ``conversation`` from a fresh start, checking each one."""
        await self.restart()
        outcome = ConversationOutcome(conversation, [])
        for turn in conversation.turns:
            replies, intent, opened = await self.say(turn.user)
            result = TurnOutcome(turn.user, turn.expect, replies, intent, opened)
            check_turn(result, self.employee)
            outcome.turns.append(result)
        return outcome


# --------------------------------------------------------------------------- the stack
class ShiftedClock(Clock):
    """Real time moved so that it starts at ``start``: the conversations' dates are written
    for one reference moment, and time still passes (the workers need it to)."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


async def _verify(telegram: FakeTelegram, user_id: int) -> None:
    """Prove to the bot that ``user_id`` is 이영숙 (her phone contact, then her birth date)."""
    steps = [
        lambda: telegram.push_text(user_id, "/start"),
        lambda: telegram.push_contact(user_id, LEE_YOUNGSOOK.phone, user_id),
        lambda: telegram.push_text(user_id, LEE_YOUNGSOOK.birth_date.strftime("%y%m%d")),
    ]
    for step in steps:
        before = len(telegram.sent(user_id))
        step()
        await telegram.wait_for_count(user_id, before + 1, timeout=TURN_TIMEOUT)
    await asyncio.sleep(0.5)
    last = telegram.sent(user_id)[-1].text
    assert "본인 확인이 끝났어요" in last, last


@asynccontextmanager
async def conversation_world(tmp: Path) -> AsyncIterator[ConversationDriver]:
    """One seeded database, one Rasa and one app, with 이영숙 verified, at the reference time."""
    previous_clock, previous_now = clock.clock, os.environ.get(NOW_ENV)
    clock.set_clock(ShiftedClock(datetime.fromisoformat(REFERENCE_NOW)))
    os.environ[NOW_ENV] = REFERENCE_NOW  # Rasa's value extractor reads it
    try:
        database_url, _ = await seeded_database(tmp / "conversations.db")
        async with (
            rasa_server(tmp) as rasa,
            app_stack(
                database_url=database_url, rasa_url=rasa.url, web_port=rasa.web_port
            ) as stack,
        ):
            async with session_scope(stack.sessions) as session:
                lee = await session.scalar(
                    select(Policyholder).where(Policyholder.phone == LEE_YOUNGSOOK.phone)
                )
                assert lee is not None
                owner = await session.get(Employee, lee.employee_id) if lee.employee_id else None
            user_id = 7_700_001
            await _verify(stack.telegram, user_id)
            yield ConversationDriver(
                telegram=stack.telegram,
                sessions=stack.sessions,
                rasa_url=rasa.url,
                rasa_token=RASA_TOKEN,
                policyholder_id=lee.id,
                user_id=user_id,
                employee=owner.display_name if owner else "",
            )
    finally:
        clock.set_clock(previous_clock)
        if previous_now is None:
            os.environ.pop(NOW_ENV, None)
        else:
            os.environ[NOW_ENV] = previous_now
