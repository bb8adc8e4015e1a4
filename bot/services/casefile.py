"""What every move on a request shares: who may act, the history event, telling the policyholder.

Every action on a request is a ``RequestEvent`` (who, what, when); everything the policyholder is
told goes through the outbox and is a row in the contact ledger.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db.models import (
    Contact,
    ContactSender,
    Employee,
    OutboxMessage,
    OutboxPurpose,
    Policyholder,
    Request,
    RequestAction,
    RequestEvent,
)
from bot.services.chain import chain_for
from bot.services.ledger import record_contact
from bot.services.outbox import enqueue


class WorkspaceError(Exception):
    """An action the employee cannot take; ``str(error)`` is the Korean explanation."""


async def can_act(session: AsyncSession, *, employee: Employee, request: Request) -> bool:
    """The assignee, anyone in the request's chain, or anyone alerted about it may act on it."""
    if request.employee_id == employee.id:
        return True
    if any(link.employee.id == employee.id for link in await chain_for(session, request)):
        return True
    alerted = await session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.request_id == request.id, OutboxMessage.employee_id == employee.id
        )
    )
    return alerted is not None


async def require_can_act(session: AsyncSession, employee: Employee, request: Request) -> None:
    """Raise ``WorkspaceError`` unless ``employee`` may act on ``request``."""
    if not await can_act(session, employee=employee, request=request):
        raise WorkspaceError(
            "이 요청을 처리할 권한이 없습니다. 담당자 또는 부서장만 처리할 수 있어요."
        )


def record_event(
    session: AsyncSession,
    request: Request,
    action: RequestAction,
    employee: Employee | None,
    note: str = "",
) -> None:
    """Add a history event to ``request``, by ``employee`` (None: the system or the policyholder)."""
    session.add(
        RequestEvent(
            request_id=request.id,
            action=action,
            employee_id=employee.id if employee else None,
            note=note,
            created_at=clock.now(),
        )
    )


async def notify_policyholder(
    session: AsyncSession,
    *,
    request: Request,
    text: str,
    purpose: OutboxPurpose,
    employee: Employee | None = None,
    sender: ContactSender = ContactSender.BOT,
    reply_markup: dict[str, Any] | None = None,
    telegram_update_id: int | None = None,
) -> Contact | None:
    """Queue ``text`` to the request's policyholder and record it in the ledger.

    Returns None (nothing queued) when the policyholder has no Telegram chat.
    """
    policyholder = await session.get(Policyholder, request.policyholder_id)
    if policyholder is None or policyholder.telegram_chat_id is None:
        return None
    await enqueue(
        session,
        chat_id=policyholder.telegram_chat_id,
        text=text,
        reply_markup=reply_markup,
        request_id=request.id,
        employee_id=employee.id if employee else None,
        policyholder_id=policyholder.id,
        purpose=purpose,
    )
    return await record_contact(
        session,
        direction="out",
        sender=sender,
        text=text,
        policyholder_id=policyholder.id,
        employee_id=employee.id if employee else None,
        request_id=request.id,
        telegram_update_id=telegram_update_id,
    )
