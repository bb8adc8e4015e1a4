"""Open a policyholder's request: persist it, route it, and queue the employee's alert."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, metrics
from bot.clock import SEOUL
from bot.db.inserts import insert_unless_conflict
from bot.db.models import Policyholder, Request, RequestEvent, RequestKind
from bot.services.alerts import alert_buttons, alert_text
from bot.services.outbox import enqueue
from bot.services.routing import route_policyholder
from bot.services.sla import due_at


async def _next_reference(session: AsyncSession, now: datetime) -> str:
    prefix = now.astimezone(SEOUL).strftime("R-%Y%m%d-")
    last = await session.scalar(
        select(func.max(Request.reference)).where(Request.reference.like(prefix + "%"))
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


async def open_request(
    session: AsyncSession,
    *,
    policyholder: Policyholder,
    kind: str,
    summary: str,
    details: dict[str, Any] | None = None,
    policy_id: int | None = None,
) -> Request:
    """Create a request, assign it by routing, and queue the alert — in the caller's transaction.

    The daily reference number (R-20261125-0007) is unique; two replicas racing for the same
    number retry with the next one.
    """
    now = clock.now()
    route = await route_policyholder(
        session, policyholder=policyholder, today=now.astimezone(SEOUL).date()
    )
    for _attempt in range(5):
        # Two workers may pick the same next number; the loser takes the one after.
        request_id = await insert_unless_conflict(
            session,
            Request,
            Request.reference,
            reference=await _next_reference(session, now),
            kind=kind,
            urgent=kind == RequestKind.FUNERAL,
            policyholder_id=policyholder.id,
            employee_id=route.employee.id if route else None,
            policy_id=policy_id,
            summary=summary,
            details=details or {},
            created_at=now,
            updated_at=now,
            due_at=due_at(kind, now),
        )
        if request_id is not None:
            break
    else:
        raise RuntimeError("could not allocate a request reference")
    request = await session.get_one(Request, request_id)

    note = f"배정: {route.employee.display_name} ({route.reason})" if route else "배정할 직원 없음"
    session.add(
        RequestEvent(
            request_id=request.id,
            action="created",
            note=note,
            created_at=now,
            employee_id=route.employee.id if route else None,
        )
    )
    if route and route.employee.telegram_chat_id is not None and route.reason != "unreachable":
        await enqueue(
            session,
            chat_id=route.employee.telegram_chat_id,
            text=alert_text(request, policyholder, route_reason=route.reason),
            reply_markup=alert_buttons(request.id, kind=kind),
            request_id=request.id,
            employee_id=route.employee.id,
            policyholder_id=policyholder.id,
        )
    await session.flush()
    metrics.REQUESTS_OPENED.labels(kind).inc()
    return request
