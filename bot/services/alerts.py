"""The alert an employee receives for a request: summary text and action buttons, and the alert
as it looks now (status, buttons that still make sense, history) for editing it in place."""

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import SEOUL, as_utc
from bot.db.models import (
    OPEN_STATUSES,
    Employee,
    OutboxMessage,
    OutboxPurpose,
    Policyholder,
    Request,
    RequestEvent,
    RequestStatus,
)
from bot.employee_texts import HISTORY_LABELS
from bot.services.chain import ChainRole
from bot.services.labels import REQUEST_KIND_LABELS, REQUEST_STATUS_LABELS
from bot.services.phones import format_phone

ROUTE_NOTES = {
    ChainRole.OWNER: "",
    ChainRole.DEPUTY: "담당 직원이 연락되지 않아 대리 담당자께 보내드립니다.",
    ChainRole.HEAD: "담당 직원과 대리 담당자가 연락되지 않아 부서장께 보내드립니다.",
    ChainRole.UNREACHABLE: "",
}

ACTIONS = (("접수", "ack"), ("답장", "reply"), ("완료", "done"), ("이관", "handover"))


def alert_text(
    request: Request, policyholder: Policyholder, *, route_reason: ChainRole = ChainRole.OWNER
) -> str:
    """Korean summary of a request for the employee who handles it."""
    created = request.created_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")
    urgent = "🚨 [긴급] " if request.urgent else ""
    lines = [
        f"{urgent}[{REQUEST_KIND_LABELS.get(request.kind, request.kind)}] {request.reference}",
        f"계약자: {policyholder.name} ({format_phone(policyholder.phone)})",
        f"주소: {policyholder.address}",
        f"내용: {request.summary}",
        f"접수 시각: {created}",
        f"상태: {REQUEST_STATUS_LABELS.get(request.status, request.status)}",
    ]
    note = ROUTE_NOTES.get(route_reason, "")
    if note:
        lines.append(note)
    return "\n".join(lines)


def alert_buttons(request_id: int) -> dict[str, Any]:
    """Inline keyboard (Bot API JSON) with 접수 / 답장 / 완료 / 이관."""
    row = [{"text": label, "callback_data": f"req:{code}:{request_id}"} for label, code in ACTIONS]
    return {"inline_keyboard": [row[:2], row[2:]]}


def alert_markup(request: Request) -> dict[str, Any] | None:
    """Buttons that still make sense for the request's status."""
    if request.status not in OPEN_STATUSES:
        return None
    actions = ACTIONS if request.status == RequestStatus.NEW else ACTIONS[1:]
    row = [{"text": label, "callback_data": f"req:{code}:{request.id}"} for label, code in actions]
    return {"inline_keyboard": [row[:2], row[2:]] if len(row) == 4 else [row]}


async def alert_view(session: AsyncSession, request: Request) -> tuple[str, dict[str, Any] | None]:
    """Text and buttons of the alert for the request's current state, with its history."""
    policyholder = await session.get(Policyholder, request.policyholder_id)
    assert policyholder is not None
    lines = [alert_text(request, policyholder)]
    events = await session.execute(
        select(RequestEvent, Employee)
        .outerjoin(Employee, Employee.id == RequestEvent.employee_id)
        .where(RequestEvent.request_id == request.id, RequestEvent.action.in_(HISTORY_LABELS))
        .order_by(RequestEvent.id)
    )
    history = []
    for event, who in events.all():
        when = as_utc(event.created_at).astimezone(SEOUL).strftime("%m/%d %H:%M")
        name = who.display_name if who else "시스템"
        history.append(f"• {when} {HISTORY_LABELS[event.action]} — {name}")
    if history:
        lines.append("\n".join(["", "처리 기록:", *history[-6:]]))
    return "\n".join(lines), alert_markup(request)


async def alert_messages(session: AsyncSession, request: Request) -> list[tuple[int, int]]:
    """(chat id, message id) of every alert sent about ``request``, to edit them in place."""
    rows = await session.execute(
        select(OutboxMessage.chat_id, OutboxMessage.telegram_message_id).where(
            OutboxMessage.request_id == request.id,
            OutboxMessage.telegram_message_id.is_not(None),
            or_(
                *(
                    OutboxMessage.purpose == p
                    for p in (OutboxPurpose.ALERT, OutboxPurpose.ESCALATION, OutboxPurpose.HANDOVER)
                )
            ),
        )
    )
    return [(chat, int(mid)) for chat, mid in rows.all() if mid is not None]
