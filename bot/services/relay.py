"""The relay: an employee and a policyholder talking through the bot about one request.

The employee's words go to the policyholder signed (``relay_to_policyholder``) and open a handoff;
while it runs, the policyholder's messages go to that employee and the bot stays silent
(``consume_policyholder_text``, the one hook the policyholder chat calls). Right after a rating
press, the next text is the rating comment. Everything else is the bot's (Rasa's) to answer.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.clock import as_utc
from bot.db.models import (
    OPEN_STATUSES,
    Contact,
    ContactSender,
    Employee,
    OutboxMessage,
    OutboxPurpose,
    Policyholder,
    Request,
    RequestAction,
    RequestStatus,
)
from bot.employee_texts import EMP_RELAY_IN
from bot.services.casefile import (
    WorkspaceError,
    notify_policyholder,
    record_event,
    require_can_act,
)
from bot.services.ledger import link_to_request
from bot.services.masking import mask_personal_numbers
from bot.services.outbox import enqueue
from bot.services.ratings import finish_rating
from bot.texts import PH_RELAY_FIRST_NOTE, PH_RELAY_SIGNATURE

_REFERENCE = re.compile(r"\bR-\d{8}-\d{4,}\b")  # as bot.services.requests writes them

HANDOFF = timedelta(hours=24)  # the relay stays open this long after the employee's last message


async def consume_policyholder_text(
    session: AsyncSession, *, policyholder: Policyholder, text: str, contact_id: int
) -> bool:
    """Handle ``text`` for the workspace if it belongs there; True means "bot, stay silent".

    ``contact_id`` is the ledger row the caller already wrote for this inbound message; it is
    linked to the request it concerns. Runs in the caller's transaction (the caller commits).
    """
    now = clock.now()
    if policyholder.rating_pending_request_id is not None:
        until = policyholder.rating_pending_until
        request = await session.get(Request, policyholder.rating_pending_request_id)
        if request is not None and until is not None and as_utc(until) > now:
            await link_to_request(session, contact_id, request.id)
            await finish_rating(session, request=request, policyholder=policyholder, comment=text)
            return True
        policyholder.rating_pending_request_id = None
        policyholder.rating_pending_until = None

    handoff = await open_handoff(session, policyholder=policyholder, now=now)
    if handoff is None:
        return False
    if not await relay_to_employee(session, request=handoff, policyholder=policyholder, text=text):
        return False
    await link_to_request(session, contact_id, handoff.id)
    await session.flush()
    return True


async def relay_to_policyholder(
    session: AsyncSession,
    *,
    request: Request,
    employee: Employee,
    text: str,
    telegram_update_id: int | None = None,
) -> Contact | None:
    """Send the employee's words to the policyholder, signed; open (or extend) the handoff.

    Replying counts as taking the request: a new request becomes in progress.
    Returns None when the policyholder cannot be reached on Telegram.
    """
    await require_can_act(session, employee, request)
    if request.status not in OPEN_STATUSES:
        raise WorkspaceError("이미 종료된 요청입니다. 계약자에게 전달하지 않았습니다.")
    now = clock.now()
    first = request.handoff_until is None or as_utc(request.handoff_until) <= now
    message = PH_RELAY_SIGNATURE.format(
        text=mask_personal_numbers(text.strip()), employee=employee.display_name
    )
    if first:
        message += PH_RELAY_FIRST_NOTE
    contact = await notify_policyholder(
        session,
        request=request,
        employee=employee,
        sender=ContactSender.EMPLOYEE,
        purpose=OutboxPurpose.RELAY_OUT,
        text=message,
        telegram_update_id=telegram_update_id,
    )
    if contact is None:
        return None
    if request.acknowledged_at is None:
        request.acknowledged_at = now
    request.status = RequestStatus.IN_PROGRESS
    request.employee_id = employee.id
    request.handoff_until = now + HANDOFF
    request.updated_at = now
    employee.reply_request_id = None
    record_event(session, request, RequestAction.REPLIED, employee)
    await session.flush()
    return contact


async def open_handoff(
    session: AsyncSession, *, policyholder: Policyholder, now: datetime
) -> Request | None:
    """The open request whose relay is running for this policyholder, if any."""
    candidates = await session.scalars(
        select(Request)
        .where(
            Request.policyholder_id == policyholder.id,
            Request.status.in_(OPEN_STATUSES),
            Request.handoff_until.is_not(None),
        )
        .order_by(Request.handoff_until.desc())
    )
    for request in candidates:
        if request.handoff_until is not None and as_utc(request.handoff_until) > now:
            return request
    return None


async def relay_to_employee(
    session: AsyncSession, *, request: Request, policyholder: Policyholder, text: str
) -> bool:
    """Forward the policyholder's message to the request's employee (as a replyable message)."""
    if request.employee_id is None:
        return False
    employee = await session.get(Employee, request.employee_id)
    if employee is None or employee.telegram_chat_id is None:
        return False
    await enqueue(
        session,
        chat_id=employee.telegram_chat_id,
        # The outbox stores the text: personal numbers are masked like everywhere else.
        text=EMP_RELAY_IN.format(
            reference=request.reference,
            policyholder=policyholder.name,
            text=mask_personal_numbers(text),
        ),
        request_id=request.id,
        employee_id=employee.id,
        policyholder_id=policyholder.id,
        purpose=OutboxPurpose.RELAY_IN,
    )
    return True


async def request_for_message(
    session: AsyncSession, *, chat_id: int, message_id: int, text: str | None = None
) -> Request | None:
    """The request a bot message in ``chat_id`` was about (alerts, forwarded customer texts).

    The outbox row knows the message once Telegram's answer to the send is stored; a reply can
    come sooner than that, so the reference the bot wrote on the message's first line
    (``text``, as the reply quotes it) names the request too. Who may act on it is checked by
    the caller's action, as for any request.
    """
    request_id = await session.scalar(
        select(OutboxMessage.request_id).where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.telegram_message_id == message_id,
            OutboxMessage.request_id.is_not(None),
        )
    )
    if request_id is not None:
        return await session.get(Request, request_id)
    first_line = (text or "").partition("\n")[0]
    match = _REFERENCE.search(first_line)
    if match is None:
        return None
    return await session.scalar(select(Request).where(Request.reference == match.group(0)))
