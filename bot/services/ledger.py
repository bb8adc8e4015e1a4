"""The contact ledger: every message between the company and a policyholder is one row."""

import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.db.engine import session_scope
from bot.db.inserts import insert_unless_conflict
from bot.db.models import (
    Contact,
    ContactChannel,
    ContactSender,
    Employee,
    OutboxMessage,
    Policyholder,
)
from bot.services.masking import mask_personal_numbers

log = logging.getLogger(__name__)


async def record_contact(
    session: AsyncSession,
    *,
    direction: str,
    sender: ContactSender,
    text: str,
    policyholder_id: int | None = None,
    employee_id: int | None = None,
    channel: ContactChannel = ContactChannel.TELEGRAM,
    intent: str | None = None,
    confidence: float | None = None,
    request_id: int | None = None,
    telegram_user_id: int | None = None,
    telegram_update_id: int | None = None,
    telegram_message_id: int | None = None,
) -> Contact:
    """Store one message, personal numbers masked, and return the row (flushed, with an id)."""
    contact = Contact(
        direction=direction,
        sender=sender,
        text=mask_personal_numbers(text),
        policyholder_id=policyholder_id,
        employee_id=employee_id,
        channel=channel,
        intent=intent,
        confidence=confidence,
        request_id=request_id,
        telegram_user_id=telegram_user_id,
        telegram_update_id=telegram_update_id,
        telegram_message_id=telegram_message_id,
    )
    session.add(contact)
    await session.flush()
    metrics.MESSAGES.labels(channel, direction).inc()
    return contact


async def record_bot_notice(
    sessions: async_sessionmaker[AsyncSession], *, chat_id: int, text: str
) -> None:
    """Store a message the bot sends outside a conversation turn (the apology after an error)
    to a policyholder's chat, or to someone not verified yet; employees' chats are not ledger
    contacts. Best effort: the database may be why the turn failed."""
    try:
        async with session_scope(sessions) as session:
            if await session.scalar(
                select(Employee.id).where(Employee.telegram_chat_id == chat_id)
            ):
                return
            holder = await session.scalar(
                select(Policyholder).where(
                    Policyholder.telegram_user_id == chat_id, Policyholder.verified_at.is_not(None)
                )
            )
            await record_contact(
                session,
                direction="out",
                sender=ContactSender.BOT,
                text=text,
                policyholder_id=holder.id if holder else None,
                employee_id=holder.employee_id if holder else None,
                telegram_user_id=None if holder else chat_id,
            )
    except Exception:
        log.warning("could not store the notice to chat %s", chat_id, exc_info=True)


async def record_inbound_once(session: AsyncSession, **fields: object) -> int | None:
    """Store an inbound Telegram message unless its update id was stored before; its row id.

    Telegram re-delivers updates after a crash or a timeout; None tells the caller this update
    was already handled and must not be answered twice. One statement: the unique update id
    decides, also between concurrent workers (no savepoint: see bot.db.inserts).
    """
    values = {**fields, "direction": "in"}
    values["text"] = mask_personal_numbers(str(fields["text"]))
    contact_id = await insert_unless_conflict(
        session, Contact, Contact.telegram_update_id, **values
    )
    if contact_id is not None:
        metrics.MESSAGES.labels(str(fields.get("channel", "telegram")), "in").inc()
    return contact_id


async def link_to_request(session: AsyncSession, contact_id: int, request_id: int) -> None:
    """Link a stored message to the request it concerns (one UPDATE; the row is not loaded)."""
    await session.execute(
        update(Contact)
        .where(Contact.id == contact_id)
        .values(request_id=request_id)
        .execution_options(synchronize_session=False)
    )


async def is_update_stored(session: AsyncSession, update_id: int) -> bool:
    """Whether the ledger holds the message of this Telegram update."""
    found = await session.scalar(select(Contact.id).where(Contact.telegram_update_id == update_id))
    return found is not None


async def update_was_stored(sessions: async_sessionmaker[AsyncSession], update_id: int) -> bool:
    """``is_update_stored`` after a failure: False when the database cannot say (it may be why)."""
    try:
        async with session_scope(sessions) as session:
            return await is_update_stored(session, update_id)
    except Exception:
        log.warning("could not check the ledger for update %s", update_id, exc_info=True)
        return False


async def original_of(
    session: AsyncSession, *, telegram_user_id: int, telegram_message_id: int
) -> Contact | None:
    """The stored inbound message a Telegram edit refers to (not an earlier edit of it)."""
    found: Contact | None = await session.scalar(
        select(Contact)
        .where(
            Contact.direction == "in",
            Contact.telegram_user_id == telegram_user_id,
            Contact.telegram_message_id == telegram_message_id,
            Contact.edit_of_id.is_(None),
        )
        .order_by(Contact.id)
        .limit(1)
    )
    return found


async def answered_since(
    session: AsyncSession, *, policyholder_id: int, chat_id: int, message_id: int
) -> bool:
    """Whether the policyholder has said anything since the bot message ``message_id``.

    A button on a message the customer has moved past (pressed one of its buttons, typed an
    answer instead) belongs to a step that is over. A message the ledger does not know is
    taken as current: its step may well be the open one.
    """
    sent_id = await session.scalar(
        select(Contact.id)
        .where(
            Contact.policyholder_id == policyholder_id,
            Contact.direction == "out",
            Contact.telegram_message_id == message_id,
        )
        .order_by(Contact.id.desc())
        .limit(1)
    )
    if sent_id is None:  # a reply that went through the outbox
        sent_id = await session.scalar(
            select(OutboxMessage.contact_id)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.telegram_message_id == message_id,
                OutboxMessage.contact_id.is_not(None),
            )
            .limit(1)
        )
    if sent_id is None:
        return False
    later = await session.scalar(
        select(Contact.id)
        .where(
            Contact.policyholder_id == policyholder_id,
            Contact.direction == "in",
            Contact.id > sent_id,
            Contact.edit_of_id.is_(None),
        )
        .limit(1)
    )
    return later is not None
