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
    RequestKind,
    RequestStatus,
)
from bot.employee_texts import HISTORY_LABELS
from bot.services.chain import ChainRole
from bot.services.labels import REQUEST_KIND_LABELS, REQUEST_STATUS_LABELS, won
from bot.services.message_limits import shorten
from bot.services.phones import format_phone

# The alert is one Telegram message that is edited in place as the request moves on: a long
# summary (a wish quoted in full) is cut so that the alert and its history fit in 4,096.
SUMMARY_MAX = 3000
SUMMARY_POINTER = "(전체 내용은 관리 콘솔에서 확인하세요.)"

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
    if request.kind == RequestKind.RETENTION:
        return retention_text(request, policyholder, route_reason=route_reason)
    created = request.created_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")
    urgent = "🚨 [긴급] " if request.urgent else ""
    lines = [
        f"{urgent}[{REQUEST_KIND_LABELS.get(request.kind, request.kind)}] {request.reference}",
        f"계약자: {policyholder.name} ({format_phone(policyholder.phone)})",
        f"주소: {policyholder.address}",
        f"내용: {shorten(request.summary, SUMMARY_MAX, pointer=SUMMARY_POINTER)}",
        f"접수 시각: {created}",
        f"상태: {REQUEST_STATUS_LABELS.get(request.status, request.status)}",
    ]
    note = ROUTE_NOTES.get(route_reason, "")
    if note:
        lines.append(note)
    return "\n".join(lines)


def alert_buttons(request_id: int, *, kind: str | None = None) -> dict[str, Any]:
    """Inline keyboard (Bot API JSON) with 접수 / 답장 / 완료 / 이관 (retention: its own)."""
    if kind == RequestKind.RETENTION:
        return retention_buttons(request_id)
    row = [{"text": label, "callback_data": f"req:{code}:{request_id}"} for label, code in ACTIONS]
    return {"inline_keyboard": [row[:2], row[2:]]}


# --- retention tasks: an unpaid premium to act on before the policy lapses --------------------
RETENTION_ACTIONS = (("📞 전화했어요", "call"), ("🏠 방문했어요", "visit"))
CHANNELS = {"phone": "전화", "visit": "방문", "telegram": "텔레그램"}


def retention_text(
    request: Request, policyholder: Policyholder, *, route_reason: ChainRole = ChainRole.OWNER
) -> str:
    """The retention task as the employee reads it: who, which policy, how long unpaid, the last
    contact, and what to do (the figures were fixed when the task was opened)."""
    d = request.details if isinstance(request.details, dict) else {}
    last = d.get("last_contact")
    last_text = (
        f"{last} ({CHANNELS.get(d.get('last_contact_channel', ''), '기타')})" if last else "없음"
    )
    lines = [
        f"📌 [{REQUEST_KIND_LABELS[RequestKind.RETENTION]}] {request.reference}",
        f"계약자: {policyholder.name} ({format_phone(policyholder.phone)})",
        f"주소: {policyholder.address}",
        f"계약: {d.get('product', '')} {d.get('policy_number', '')} · 회당 {won(int(d.get('premium', 0)))}",
        f"미납: {d.get('months_unpaid', 1)}개월 ({d.get('installment', '?')}회차부터, "
        f"납입기일 {d.get('due_on', '')}) · 미납액 {won(int(d.get('amount', 0)))}",
        f"실효 예정: {d.get('grace_until', '')}까지 납입하지 않으면 실효됩니다",
        f"최근 연락: {last_text}",
        "할 일: 전화나 방문으로 납입 방법을 안내하고, 연락한 뒤 아래 버튼을 눌러 주세요.",
        f"상태: {REQUEST_STATUS_LABELS.get(request.status, request.status)}",
    ]
    note = ROUTE_NOTES.get(route_reason, "")
    if note:
        lines.append(note)
    return "\n".join(lines)


def retention_buttons(request_id: int) -> dict[str, Any]:
    """전화했어요 / 방문했어요 (log the contact and close the task), and 이관."""
    row = [
        {"text": label, "callback_data": f"ret:{code}:{request_id}"}
        for label, code in RETENTION_ACTIONS
    ]
    handover = [{"text": "이관", "callback_data": f"req:handover:{request_id}"}]
    return {"inline_keyboard": [row, handover]}


def alert_markup(request: Request) -> dict[str, Any] | None:
    """Buttons that still make sense for the request's status."""
    if request.status not in OPEN_STATUSES:
        return None
    if request.kind == RequestKind.RETENTION:  # closed by logging a call or visit, not by 접수/완료
        return retention_buttons(request.id)
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
