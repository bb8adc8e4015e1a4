"""The alert an employee receives for a request: summary text and action buttons."""

from typing import Any

from bot.clock import SEOUL
from bot.db.models import Policyholder, Request
from bot.services.labels import REQUEST_KIND_LABELS, REQUEST_STATUS_LABELS
from bot.services.message_limits import shorten
from bot.services.phones import format_phone

# The alert is one Telegram message that is edited in place as the request moves on: a long
# summary (a wish quoted in full) is cut so that the alert and its history fit in 4,096.
SUMMARY_MAX = 3000
SUMMARY_POINTER = "(전체 내용은 관리 콘솔에서 확인하세요.)"

ROUTE_NOTES = {
    "owner": "",
    "deputy": "담당 직원이 연락되지 않아 대리 담당자께 보내드립니다.",
    "head": "담당 직원과 대리 담당자가 연락되지 않아 부서장께 보내드립니다.",
    "unreachable": "",
}

ACTIONS = (("접수", "ack"), ("답장", "reply"), ("완료", "done"), ("이관", "handover"))


def alert_text(request: Request, policyholder: Policyholder, *, route_reason: str = "owner") -> str:
    """Korean summary of a request for the employee who handles it."""
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


def alert_buttons(request_id: int) -> dict[str, Any]:
    """Inline keyboard (Bot API JSON) with 접수 / 답장 / 완료 / 이관."""
    row = [{"text": label, "callback_data": f"req:{code}:{request_id}"} for label, code in ACTIONS]
    return {"inline_keyboard": [row[:2], row[2:]]}
