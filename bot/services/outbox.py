"""Persisted outbox: messages to employees are stored with the change that caused them and
delivered by a worker, so an alert is never lost when Telegram is slow or down."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db.models import OutboxMessage


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    text: str,
    reply_markup: dict[str, Any] | None = None,
    request_id: int | None = None,
    employee_id: int | None = None,
    policyholder_id: int | None = None,
    purpose: str = "alert",
) -> OutboxMessage:
    """Queue a Telegram message for delivery in the caller's transaction."""
    message = OutboxMessage(
        chat_id=chat_id,
        text=text,
        reply_markup=reply_markup,
        request_id=request_id,
        employee_id=employee_id,
        policyholder_id=policyholder_id,
        purpose=purpose,
        next_attempt_at=clock.now(),
    )
    session.add(message)
    await session.flush()
    return message
