"""The 전화했어요 / 방문했어요 buttons on a retention task (``ret:<call|visit>:<request id>``).

Pressing one logs the contact in the ledger on the task and closes it
(:func:`bot.services.retention.log_task_contact`); the alert is then edited to show the result.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot.db.models import ContactChannel, Employee, Request
from bot.services import retention
from bot.telegram.request_buttons import handle_request_button

CHANNELS = {"call": ContactChannel.PHONE, "visit": ContactChannel.VISIT}
LOGGED = (
    "📝 {reference} {label} 기록을 저장하고 유지 관리 요청을 완료했습니다.\n"
    "자세한 내용은 /{command} 로 메모를 남길 수 있어요."
)
LABELS = {ContactChannel.PHONE: "전화", ContactChannel.VISIT: "방문"}


async def on_retention_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """전화했어요 / 방문했어요 on a retention task."""
    update_id = update.update_id

    async def work(session: AsyncSession, action: str, request: Request, employee: Employee) -> str:
        channel = CHANNELS[action]
        # The contact row carries the update id: a re-delivered press is recognised.
        await retention.log_task_contact(
            session,
            request=request,
            employee=employee,
            channel=channel,
            telegram_update_id=update_id,
        )
        return LOGGED.format(reference=request.reference, label=LABELS[channel], command=action)

    await handle_request_button(update, context, actions=CHANNELS, work=work, press_label=None)
