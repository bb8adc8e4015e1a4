"""Persisted outbox: messages are stored with the change that caused them and delivered by a
worker, so an alert is never lost when Telegram is slow or down.

Delivery is at-least-once only across a crash between Telegram accepting a message and the row
being marked sent; otherwise each row is sent once. Rows are claimed with a short lease
(``status='sending'``, ``next_attempt_at`` = lease end) by one ``UPDATE … WHERE id IN (SELECT …
FOR UPDATE SKIP LOCKED)`` statement, so several workers or app processes on PostgreSQL never
take the same row (SQLite runs the same statement under its single-writer lock). A lease that
runs out — the worker died mid-send — makes the row due again.

What matters is never given up on lightly: network errors, timeouts and Telegram's 5xx are
retried with a backoff capped at ``MAX_BACKOFF`` until ``retry_until`` (24 hours after the
message was queued, ``RETRY_FOR``). Only then, or when Telegram refuses the message itself (400)
or the person blocked the bot (403), is a row ``failed``; failed rows are listed in the console,
which can queue them again (``requeue``), and counted in the weekly report.

A text longer than Telegram's 4,096 characters is queued as several messages, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import clock
from bot.clock import as_utc
from bot.db.engine import session_scope
from bot.db.inserts import insert_unless_conflict
from bot.db.models import Contact, Employee, OutboxMessage, OutboxPurpose, Policyholder
from bot.services.masking import mask_personal_numbers
from bot.services.message_limits import split_message
from bot.services.periodic import run_every

log = logging.getLogger(__name__)

Send = Callable[[OutboxMessage], Awaitable[int | None]]
"""Delivers one message; returns the Telegram message id (None when there is none, e.g. a
console). Raises python-telegram-bot errors: RetryAfter, Forbidden, BadRequest, NetworkError."""

RETRY_FOR = timedelta(hours=24)
LEASE = timedelta(seconds=120)
MAX_BACKOFF = timedelta(minutes=10)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    text: str,
    reply_markup: dict[str, Any] | None = None,
    request_id: int | None = None,
    employee_id: int | None = None,
    policyholder_id: int | None = None,
    purpose: OutboxPurpose = OutboxPurpose.ALERT,
    contact_id: int | None = None,
) -> OutboxMessage:
    """Queue a Telegram message for delivery in the caller's transaction.

    A text over Telegram's limit becomes several rows, sent in order; the buttons (and the
    ledger row, ``contact_id``) go with the last one, which is returned. The stored text has
    its personal numbers masked, except the phone on file of the policyholder it concerns (an
    employee's alert shows it so they can call back).
    """
    now = clock.now()
    masked = mask_personal_numbers(text, keep=await _phone_on_file(session, policyholder_id))
    parts = split_message(masked)
    message: OutboxMessage | None = None
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        message = OutboxMessage(
            chat_id=chat_id,
            text=part,
            reply_markup=reply_markup if last else None,
            request_id=request_id,
            employee_id=employee_id,
            policyholder_id=policyholder_id,
            purpose=purpose,
            contact_id=contact_id if last else None,
            next_attempt_at=now,
            retry_until=now + RETRY_FOR,
        )
        session.add(message)
    await session.flush()
    assert message is not None
    return message


async def enqueue_once(
    session: AsyncSession, *, dedupe_key: str, **fields: Any
) -> OutboxMessage | None:
    """Queue a message unless one with ``dedupe_key`` was ever queued; None when it was.

    On PostgreSQL a concurrent second insert waits for the first transaction, then does nothing.
    """
    if isinstance(fields.get("text"), str):
        keep = await _phone_on_file(session, fields.get("policyholder_id"))
        fields["text"] = mask_personal_numbers(fields["text"], keep=keep)
    message_id = await insert_unless_conflict(
        session,
        OutboxMessage,
        OutboxMessage.dedupe_key,
        dedupe_key=dedupe_key,
        next_attempt_at=clock.now(),
        retry_until=clock.now() + RETRY_FOR,
        **fields,
    )
    return None if message_id is None else await session.get(OutboxMessage, message_id)


async def _phone_on_file(session: AsyncSession, policyholder_id: object) -> tuple[str, ...]:
    """The phone number the database holds for the policyholder a message concerns."""
    if not isinstance(policyholder_id, int):
        return ()
    policyholder = await session.get(Policyholder, policyholder_id)
    return (policyholder.phone,) if policyholder is not None else ()


async def queued_with_key(session: AsyncSession, dedupe_key: str) -> OutboxMessage | None:
    """The message queued under ``dedupe_key``, if any."""
    return await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 2, 4, 8 … seconds, at most ten minutes."""
    return min(timedelta(seconds=2 ** min(attempts, 20)), MAX_BACKOFF)


async def claim_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    limit: int = 50,
    ids: list[int] | None = None,
) -> list[OutboxMessage]:
    """Take up to ``limit`` due rows (only ``ids``, if given) for this worker, oldest first."""
    now = clock.now()
    is_due = or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
        # A worker died while sending: its lease ran out.
        and_(OutboxMessage.status == SENDING, OutboxMessage.next_attempt_at <= now),
    )
    if ids is not None:
        is_due = and_(is_due, OutboxMessage.id.in_(ids))
    due = (
        select(OutboxMessage.id)
        .where(is_due)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    async with session_scope(sessions) as session:
        # Look before claiming: an idle round then only reads, so on SQLite it never takes the
        # write lock that the bot's own writes are waiting for.
        if await session.scalar(select(OutboxMessage.id).where(is_due).limit(1)) is None:
            return []
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due))
            .values(status=SENDING, next_attempt_at=now + LEASE)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        ids = sorted(result.scalars().all())
        if not ids:
            return []
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
        return list(rows.all())


async def _finish(
    sessions: async_sessionmaker[AsyncSession], message_id: int, **values: Any
) -> None:
    async with session_scope(sessions) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == SENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    send: Send,
    *,
    limit: int = 50,
    ids: list[int] | None = None,
) -> int:
    """Send what is due now (only ``ids``, if given); return how many messages were delivered.

    Each row is finished on its own: one failing message never holds up the others. When a
    chat answers 429, its later messages in this batch wait too, so a chat's messages keep
    their order.
    """
    delivered = 0
    held: dict[int, datetime] = {}  # chat id → not before
    for message in await claim_due(sessions, limit=limit, ids=ids):
        if message.chat_id in held:
            await _finish(
                sessions, message.id, status=PENDING, next_attempt_at=held[message.chat_id]
            )
            continue
        now = clock.now()
        try:
            telegram_message_id = await send(message)
        except RetryAfter as exc:
            wait = timedelta(seconds=_seconds(exc.retry_after))
            error = f"429 retry after {_seconds(exc.retry_after):g}s"
            if now + wait > _deadline(message):
                await _give_up(sessions, message, message.attempts, error)
                continue
            held[message.chat_id] = now + wait
            await _finish(
                sessions, message.id, status=PENDING, next_attempt_at=now + wait, last_error=error
            )
            log.info("outbox %s: flood control, retry in %s", message.id, wait)
        except Forbidden as exc:
            await _on_forbidden(sessions, message, str(exc))
        except BadRequest as exc:  # the message itself is wrong: retrying will not help
            await _finish(
                sessions,
                message.id,
                status=FAILED,
                attempts=message.attempts + 1,
                last_error=f"400 {exc}",
            )
            log.error("outbox %s: rejected by Telegram: %s", message.id, exc)
        except (NetworkError, TelegramError, OSError) as exc:
            await _retry_later(sessions, message, now, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug in the sender must not stop the worker
            log.exception("outbox %s: sender failed", message.id)
            await _retry_later(sessions, message, now, f"{type(exc).__name__}: {exc}")
        else:
            await _delivered(sessions, message, telegram_message_id)
            delivered += 1
    return delivered


async def _delivered(
    sessions: async_sessionmaker[AsyncSession],
    message: OutboxMessage,
    telegram_message_id: int | None,
) -> None:
    async with session_scope(sessions) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING)
            .values(
                status=SENT,
                attempts=message.attempts + 1,
                sent_at=clock.now(),
                telegram_message_id=telegram_message_id,
                last_error=None,
            )
            .execution_options(synchronize_session=False)
        )
        if message.contact_id is not None and telegram_message_id is not None:
            # A reply that went through the outbox: its ledger row learns the message id, so a
            # press on its buttons is recognised (stale or current) like a direct reply's.
            await session.execute(
                update(Contact)
                .where(Contact.id == message.contact_id)
                .values(telegram_message_id=telegram_message_id)
                .execution_options(synchronize_session=False)
            )


def _deadline(message: OutboxMessage) -> datetime:
    """Until when the row is retried: ``retry_until``, or 24 hours after it was queued."""
    if message.retry_until is not None:
        return as_utc(message.retry_until)
    return as_utc(message.created_at) + RETRY_FOR


async def _give_up(
    sessions: async_sessionmaker[AsyncSession], message: OutboxMessage, attempts: int, error: str
) -> None:
    await _finish(sessions, message.id, status=FAILED, attempts=attempts, last_error=error)
    log.error(
        "outbox %s: not delivered by %s, giving up after %s attempts: %s",
        message.id,
        _deadline(message).isoformat(),
        attempts,
        error,
    )


async def _retry_later(
    sessions: async_sessionmaker[AsyncSession],
    message: OutboxMessage,
    now: datetime,
    error: str,
) -> None:
    attempts = message.attempts + 1
    if now >= _deadline(message):
        await _give_up(sessions, message, attempts, error)
        return
    # The last attempt falls on the deadline rather than past it.
    next_attempt = min(now + backoff(attempts), _deadline(message))
    await _finish(
        sessions,
        message.id,
        status=PENDING,
        attempts=attempts,
        next_attempt_at=next_attempt,
        last_error=error,
    )
    log.warning("outbox %s: attempt %s failed: %s", message.id, attempts, error)


async def requeue(session: AsyncSession, *, message_id: int) -> bool:
    """Queue a failed message again (from the console): due now, retried for another 24 hours.

    False when the row is not failed (already re-queued, sent, or unknown).
    """
    now = clock.now()
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=now, retry_until=now + RETRY_FOR)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def failed_messages(
    session: AsyncSession, *, limit: int = 100, offset: int = 0
) -> list[OutboxMessage]:
    """Messages the outbox gave up on, newest first."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == FAILED)
        .order_by(OutboxMessage.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows.all())


async def _on_forbidden(
    sessions: async_sessionmaker[AsyncSession], message: OutboxMessage, error: str
) -> None:
    """403: the person blocked the bot. Mark an employee blocked; the escalation round moves
    their open requests on along the chain."""
    async with session_scope(sessions) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING)
            .values(status=FAILED, attempts=message.attempts + 1, last_error=f"403 {error}")
            .execution_options(synchronize_session=False)
        )
        employee = await session.scalar(
            select(Employee).where(Employee.telegram_chat_id == message.chat_id)
        )
        if employee is None:
            log.warning("outbox %s: chat %s blocked the bot", message.id, message.chat_id)
            return
        employee.telegram_blocked = True
        log.warning("outbox %s: employee %s blocked the bot", message.id, employee.id)


async def run_outbox_worker(
    sessions: async_sessionmaker[AsyncSession],
    send: Send,
    *,
    interval: float,
    stop: asyncio.Event,
    limit: int = 50,
) -> None:
    """Deliver due messages until ``stop`` is set; sleeps ``interval`` seconds when idle."""

    async def deliver_round() -> bool:
        return await deliver_due(sessions, send, limit=limit) >= limit  # more may be waiting

    await run_every(interval, stop, deliver_round, name="outbox")
