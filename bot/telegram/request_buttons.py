"""What every button on a request's message (``<prefix>:<action>:<request id>``) does around its
own work: only employees may press one, a press Telegram delivers twice runs once, the answer is
in the ledger before it is sent, and the request's alerts are refreshed in the background."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Container

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot.db.engine import session_scope
from bot.db.models import ContactSender, Employee, OutboxPurpose, Request
from bot.services.casefile import WorkspaceError
from bot.services.ledger import is_update_stored, record_contact
from bot.telegram.alert_edits import refresh_alerts
from bot.telegram.context import services
from bot.telegram.delivery import decorate, send_or_queue

BUTTON_REFUSED = "직원 전용 버튼입니다."
NOT_FOUND = "요청을 찾을 수 없습니다."

# The button's own work: its answer to the employee. A WorkspaceError's text is the answer too.
ButtonWork = Callable[[AsyncSession, str, Request, Employee], Awaitable[str]]
# What the press itself is written as in the ledger (None: the work records it itself).
PressLabel = Callable[[str, Request | None], str]


async def handle_request_button(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    *,
    actions: Container[str],
    work: ButtonWork,
    press_label: PressLabel | None,
) -> None:
    """Run ``work`` for a pressed button whose action is one of ``actions``."""
    sessions = services(context).sessions
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_chat is not None
    chat_id = update.effective_chat.id
    try:
        _, action, raw_id = query.data.split(":", 2)
        request_id = int(raw_id)
    except ValueError:
        action, request_id = "", 0
    if action not in actions:
        decorate(context.application, "answer to a malformed button", query.answer())
        return
    message = update.effective_message
    async with session_scope(sessions) as session:
        employee = await session.scalar(
            select(Employee).where(Employee.telegram_chat_id == chat_id)
        )
        if employee is None:
            decorate(
                context.application,
                "refusing a button",
                query.answer(BUTTON_REFUSED, show_alert=True),
            )
            return
        if await is_update_stored(session, update.update_id):  # Telegram delivered it again
            return
        request = await session.get(Request, request_id)
        if press_label is not None:
            await record_contact(
                session,
                direction="in",
                sender=ContactSender.EMPLOYEE,
                text=press_label(action, request),
                employee_id=employee.id,
                request_id=request.id if request is not None else None,
                telegram_user_id=update.effective_user.id if update.effective_user else None,
                telegram_update_id=update.update_id,
                telegram_message_id=message.message_id if message is not None else None,
            )
        if request is None:
            answer = NOT_FOUND
        else:
            try:
                answer = await work(session, action, request, employee)
            except WorkspaceError as error:
                answer = str(error)
        stored = await record_contact(
            session,
            direction="out",
            sender=ContactSender.BOT,
            text=answer,
            employee_id=employee.id,
            request_id=request.id if request is not None else None,
        )
        employee_id = employee.id
    # Stored: now the press may be answered (a failure there costs nothing, see delivery).
    decorate(context.application, "answer to a request button", query.answer())
    await send_or_queue(
        context.bot,
        sessions,
        chat_id=chat_id,
        text=answer,
        contact_id=stored.id,
        reply_to_message_id=message.message_id if message is not None else None,
        employee_id=employee_id,
        purpose=OutboxPurpose.BOT_REPLY,
    )
    if request is not None:
        # In the background: a 429 on the edit must not hold up this chat's next updates.
        context.application.create_task(
            refresh_alerts(context.bot, sessions, request.id), update=update
        )
