"""One policyholder message, channel-agnostic: store it, understand it, answer it, log the answer.

Telegram and the terminal chat both call ``handle_message``. The inbound message is committed
before Rasa is asked anything, so a crash or a dead Rasa never loses the customer's words.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock, metrics, texts
from bot.actions.server import sender_id_for
from bot.clock import as_utc
from bot.db import session_scope
from bot.db.models import (
    OPEN_STATUSES,
    Contact,
    ContactSender,
    Employee,
    Policyholder,
    Request,
    RequestKind,
)
from bot.rasa_client import BotReply, RasaClient, RasaUnavailable
from bot.services.ledger import record_contact, record_inbound_once
from bot.services.masking import mask_personal_numbers
from bot.services.outbox import enqueue
from bot.services.relay import consume_policyholder_text
from bot.services.requests import open_request
from bot.services.sla import Deadlines
from bot.services.turns import TurnTaken, claim_turn

log = logging.getLogger(__name__)

MAX_TEXT = 4096
_HANGUL = re.compile(r"[가-힣ㄱ-ㅎㅏ-ㅣ]")
_LATIN = re.compile(r"[A-Za-z]")
_WORDISH = re.compile(r"[\w가-힣]")
RASA_DOWN_WINDOW_MINUTES = 30


@dataclass
class Outgoing:
    """A message for the policyholder, already stored in the ledger as ``contact_id``."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    contact_id: int | None = None


@dataclass(frozen=True)
class Inbound:
    policyholder_id: int
    text: str  # what goes to Rasa (a button's payload, or the typed text)
    shown_text: str | None = None  # what the ledger records when it differs (a button's title)
    telegram_user_id: int | None = None
    update_id: int | None = None
    message_id: int | None = None


def screen_text(text: str) -> str | None:
    """The Korean answer for text the bot should not try to understand, or None if it is fine."""
    stripped = text.strip()
    if not stripped or not _WORDISH.search(stripped):
        return texts.EMPTY_OR_EMOJI
    if len(text) > MAX_TEXT:
        return texts.TOO_LONG
    if stripped.startswith("/"):
        return None  # button payloads and commands
    if (
        _LATIN.search(stripped)
        and not _HANGUL.search(stripped)
        and not any(ch.isdigit() for ch in stripped)
    ):
        return texts.NOT_KOREAN
    return None


async def record_replies(
    session: AsyncSession,
    *,
    policyholder_id: int,
    employee_id: int | None,
    replies: list[BotReply],
    request_id: int | None,
) -> list[Outgoing]:
    """Store the bot's replies as outbound contacts before they are sent."""
    outgoing = []
    for reply in replies:
        contact = await record_contact(
            session,
            direction="out",
            sender=ContactSender.BOT,
            text=reply.text,
            policyholder_id=policyholder_id,
            employee_id=employee_id,
            request_id=request_id,
        )
        outgoing.append(Outgoing(reply.text, list(reply.buttons), contact.id))
    return outgoing


async def _reply(
    sessions: async_sessionmaker[AsyncSession],
    policyholder_id: int,
    replies: list[BotReply],
    request_id: int | None = None,
) -> list[Outgoing]:
    async with session_scope(sessions) as session:
        policyholder = await session.get(Policyholder, policyholder_id)
        assert policyholder is not None
        return await record_replies(
            session,
            policyholder_id=policyholder.id,
            employee_id=policyholder.employee_id,
            replies=replies,
            request_id=request_id,
        )


@metrics.timed(metrics.TURN_SECONDS)
async def handle_message(
    sessions: async_sessionmaker[AsyncSession],
    rasa: RasaClient,
    inbound: Inbound,
    *,
    deadlines: Deadlines,
    on_stored: Callable[[bool], None] | None = None,
) -> list[Outgoing] | None:
    """Process one message from a verified policyholder; None when it was a repeated update.

    ``on_stored`` is called once the message is committed to the ledger — the earliest moment
    for any Bot API call about it — with True when the bot is going to think about an answer
    (the moment for a typing indicator).
    """
    # Masked before anything keeps it: the ledger, a relay, a rating comment, and Rasa (its
    # tracker store) only ever see the masked text. Screening reads what was typed: a message
    # that is only a number is not empty.
    screened = screen_text(inbound.text)
    inbound = replace(
        inbound,
        text=mask_personal_numbers(inbound.text),
        shown_text=mask_personal_numbers(inbound.shown_text) if inbound.shown_text else None,
    )
    async with session_scope(sessions) as session:
        policyholder = await session.get(Policyholder, inbound.policyholder_id)
        assert policyholder is not None
        employee_id = policyholder.employee_id
        contact_id = await record_inbound_once(
            session,
            sender=ContactSender.POLICYHOLDER,
            text=inbound.shown_text or inbound.text,
            policyholder_id=policyholder.id,
            employee_id=employee_id,
            telegram_user_id=inbound.telegram_user_id,
            telegram_update_id=inbound.update_id,
            telegram_message_id=inbound.message_id,
        )
        if contact_id is None:
            return None
        # While an employee has taken over (or a rating comment is due), the bot stays silent.
        consumed = await consume_policyholder_text(
            session, policyholder=policyholder, text=inbound.text, contact_id=contact_id
        )
    problem = None if consumed else screened
    if on_stored is not None:
        on_stored(not consumed and problem is None)
    if consumed:
        return []
    if problem:
        return await _reply(sessions, inbound.policyholder_id, [BotReply(problem)])

    try:
        parse, replies = await rasa.turn(
            sender_id_for(inbound.policyholder_id), inbound.text, metadata={"turn": contact_id}
        )
    except RasaUnavailable as error:
        log.warning("Rasa unavailable, routing message %s to a person: %s", contact_id, error)
        return await _rasa_down(sessions, inbound, contact_id, deadlines)

    async with session_scope(sessions) as session:
        # The message's row learns what Rasa understood. An action that opened a request this
        # turn claimed the message for it (``bot.services.turns``: the turn is in the message's
        # metadata), so the request comes back with the row, for the replies to be linked too.
        request_id = await session.scalar(
            update(Contact)
            .where(Contact.id == contact_id)
            .values(intent=parse.intent, confidence=parse.confidence)
            .returning(Contact.request_id)
        )
        return await record_replies(
            session,
            policyholder_id=inbound.policyholder_id,
            employee_id=employee_id,
            replies=replies,
            request_id=request_id,
        )


async def _rasa_down(
    sessions: async_sessionmaker[AsyncSession],
    inbound: Inbound,
    contact_id: int,
    deadlines: Deadlines,
) -> list[Outgoing]:
    """Rasa did not answer: a person must see the message. One request per outage window.

    Rasa may only be slow: its action can still open the request the customer asked for, now or
    after this. Whichever claims the message first wins (``bot.services.turns``): if the action
    did, the customer is told that request's reference and no outage request is opened; if this
    does, the late action opens nothing.
    """
    for _attempt in range(3):
        try:
            return await _hand_to_a_person(sessions, inbound, contact_id, deadlines)
        except TurnTaken:
            log.info("message %s was answered by a late action after all", contact_id)
    raise RuntimeError(f"could not settle the turn of message {contact_id}")


async def _hand_to_a_person(
    sessions: async_sessionmaker[AsyncSession],
    inbound: Inbound,
    contact_id: int,
    deadlines: Deadlines,
) -> list[Outgoing]:
    text = inbound.shown_text or inbound.text
    async with session_scope(sessions) as session:
        policyholder = await session.get(Policyholder, inbound.policyholder_id)
        assert policyholder is not None
        stored = await session.get(Contact, contact_id, populate_existing=True)
        assert stored is not None
        if stored.request_id is not None:  # a (slow) action opened a request for this message
            opened = await session.get(Request, stored.request_id)
            assert opened is not None
            reply = BotReply(texts.RASA_SLOW_OPENED.format(reference=opened.reference))
            return await record_replies(
                session,
                policyholder_id=policyholder.id,
                employee_id=policyholder.employee_id,
                replies=[reply],
                request_id=opened.id,
            )
        since = clock.now() - timedelta(minutes=RASA_DOWN_WINDOW_MINUTES)
        recent = await session.scalar(
            select(Request)
            .where(
                Request.policyholder_id == policyholder.id,
                Request.kind == RequestKind.QUESTION,
                Request.status.in_(OPEN_STATUSES),
            )
            .order_by(Request.id.desc())
            .limit(1)
        )
        if (
            recent is not None
            and recent.details.get("reason") == "rasa_down"
            and as_utc(recent.created_at) >= since
        ):
            request = recent
            request.details = {
                **request.details,
                "messages": [*request.details.get("messages", []), text],
            }
            if request.employee_id is not None:
                employee_chat = await _employee_chat(session, request.employee_id)
                if employee_chat is not None:
                    await enqueue(
                        session,
                        chat_id=employee_chat,
                        request_id=request.id,
                        employee_id=request.employee_id,
                        policyholder_id=policyholder.id,
                        text=texts.RASA_DOWN_FOLLOWUP_ALERT.format(
                            reference=request.reference, name=policyholder.name, text=text
                        ),
                    )
        else:
            request = await open_request(
                session,
                policyholder=policyholder,
                kind=RequestKind.QUESTION,
                summary=f"챗봇 장애 중 받은 메시지: {text}",
                details={"reason": "rasa_down", "messages": [text]},
                deadlines=deadlines,
            )
        if not await claim_turn(
            session,
            contact_id=contact_id,
            policyholder_id=policyholder.id,
            request_id=request.id,
        ):
            raise TurnTaken(f"message {contact_id} already has a request")  # rolls this back
        reply = BotReply(texts.RASA_DOWN.format(reference=request.reference))
        return await record_replies(
            session,
            policyholder_id=policyholder.id,
            employee_id=policyholder.employee_id,
            replies=[reply],
            request_id=request.id,
        )


async def _employee_chat(session: AsyncSession, employee_id: int) -> int | None:
    employee = await session.get(Employee, employee_id)
    return employee.telegram_chat_id if employee else None
