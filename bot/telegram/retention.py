"""The 전화했어요 / 방문했어요 buttons on a retention task (``ret:<call|visit>:<request id>``).

Pressing one logs the contact in the ledger on the task and closes it
(:func:`bot.services.retention.log_task_contact`); the alert is then edited to show the result.
"""

from __future__ import annotations

from sqlalchemy import select
from telegram import Update
from telegram.ext import ContextTypes

from bot.db.engine import session_scope
from bot.db.models import ContactChannel, ContactSender, Employee, OutboxPurpose, Request
from bot.services import retention
from bot.services.casefile import WorkspaceError
from bot.services.ledger import is_update_stored, record_contact
from bot.telegram.alert_edits import refresh_alerts
from bot.telegram.context import services
from bot.telegram.delivery import decorate, send_or_queue

CHANNELS = {"call": ContactChannel.PHONE, "visit": ContactChannel.VISIT}
LOGGED = (
    "📝 {reference} {label} 기록을 저장하고 유지 관리 요청을 완료했습니다.\n"
    "자세한 내용은 /{command} 로 메모를 남길 수 있어요."
)
LABELS = {ContactChannel.PHONE: "전화", ContactChannel.VISIT: "방문"}
BUTTON_REFUSED = "직원 전용 버튼입니다."
NOT_FOUND = "요청을 찾을 수 없습니다."


async def on_retention_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """전화했어요 / 방문했어요 on a retention task."""
    sessions = services(context).sessions
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_chat is not None
    chat_id = update.effective_chat.id
    try:
        _, action, raw_id = query.data.split(":", 2)
        channel, request_id = CHANNELS[action], int(raw_id)
    except (KeyError, ValueError):
        decorate(context.application, "answer to a malformed button", query.answer())
        return
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
        if request is None:
            answer = NOT_FOUND
        else:
            try:
                # The contact row carries the update id: a re-delivered press is recognised.
                await retention.log_task_contact(
                    session,
                    request=request,
                    employee=employee,
                    channel=channel,
                    telegram_update_id=update.update_id,
                )
                answer = LOGGED.format(
                    reference=request.reference,
                    label=LABELS[channel],
                    command="call" if channel == ContactChannel.PHONE else "visit",
                )
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
    # Stored: the press may be answered now; a failure there costs nothing (see delivery).
    decorate(context.application, "answer to a retention button", query.answer())
    reply_to = query.message.message_id if query.message is not None else None
    await send_or_queue(
        context.bot,
        sessions,
        chat_id=chat_id,
        text=answer,
        contact_id=stored.id,
        reply_to_message_id=reply_to,
        employee_id=employee_id,
        purpose=OutboxPurpose.BOT_REPLY,
    )
    if request is not None:
        context.application.create_task(
            refresh_alerts(context.bot, sessions, request.id), update=update
        )
