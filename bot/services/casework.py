"""The employee's moves on a request: acknowledge (접수), resolve (완료), hand over (이관), start a
reply (답장), and the re-assignment that hand-over, escalation and a blocked employee share.

Who may act and the history event are in :mod:`bot.services.casefile`; who is next is the
routing chain (:mod:`bot.services.chain`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db.models import (
    OPEN_STATUSES,
    Employee,
    OutboxPurpose,
    Policyholder,
    Request,
    RequestAction,
    RequestKind,
    RequestStatus,
)
from bot.employee_texts import BLOCKED_NOTE, HANDOVER_NOTE
from bot.services.alerts import alert_markup, alert_text
from bot.services.casefile import (
    WorkspaceError,
    notify_policyholder,
    record_event,
    require_can_act,
)
from bot.services.chain import ChainLink, ChainRole, next_in_chain
from bot.services.outbox import enqueue
from bot.services.ratings import rating_keyboard
from bot.services.sla import Deadlines, due_at
from bot.texts import PH_ACKNOWLEDGED, PH_HANDED_OVER, PH_RESOLVED


async def _move(
    session: AsyncSession,
    request: Request,
    allowed: tuple[str, ...],
    to: str,
    now: datetime,
) -> bool:
    """Set ``request.status`` to ``to`` only if the stored status is still one of ``allowed``.

    A compare-and-set in the database, not a check of the loaded object: two employees pressing
    접수 or 완료 at the same moment (updates run concurrently) must not both succeed. The loser's
    ``request`` is refreshed so the caller sees the status that won.
    """
    moved = await session.execute(
        update(Request)
        .where(Request.id == request.id, Request.status.in_(allowed))
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(request)
    return bool(moved.rowcount)  # type: ignore[attr-defined]


async def acknowledge(session: AsyncSession, *, request: Request, employee: Employee) -> bool:
    """접수: the employee takes the request. Returns False when it was already acknowledged."""
    await require_can_act(session, employee, request)
    now = clock.now()
    if not await _move(session, request, (RequestStatus.NEW,), RequestStatus.ACKNOWLEDGED, now):
        if request.status in (RequestStatus.RESOLVED, RequestStatus.CANCELLED):
            raise WorkspaceError("이미 종료된 요청입니다.")
        return False
    request.acknowledged_at = now
    request.employee_id = employee.id
    request.updated_at = now
    record_event(session, request, RequestAction.ACKNOWLEDGED, employee)
    await notify_policyholder(
        session,
        request=request,
        employee=employee,
        purpose=OutboxPurpose.ACK_NOTICE,
        text=PH_ACKNOWLEDGED.format(reference=request.reference, employee=employee.display_name),
    )
    await session.flush()
    return True


async def resolve(
    session: AsyncSession, *, request: Request, employee: Employee, note: str = ""
) -> bool:
    """완료: close the request, end any relay, ask the policyholder for a rating."""
    await require_can_act(session, employee, request)
    now = clock.now()
    open_statuses = tuple(
        sorted(set(RequestStatus) - {RequestStatus.RESOLVED, RequestStatus.CANCELLED})
    )
    if not await _move(session, request, open_statuses, RequestStatus.RESOLVED, now):
        if request.status == RequestStatus.CANCELLED:
            raise WorkspaceError("취소된 요청입니다.")
        return False
    if request.acknowledged_at is None:
        request.acknowledged_at = now
    request.resolved_at = now
    request.updated_at = now
    request.employee_id = employee.id
    request.handoff_until = None
    request.due_at = None
    if employee.reply_request_id == request.id:
        employee.reply_request_id = None
    record_event(session, request, RequestAction.RESOLVED, employee, note)
    await notify_policyholder(
        session,
        request=request,
        employee=employee,
        purpose=OutboxPurpose.RESOLVED_NOTICE,
        text=PH_RESOLVED.format(reference=request.reference, employee=employee.display_name),
        reply_markup=rating_keyboard(request.id),
    )
    await session.flush()
    return True


async def reassign(
    session: AsyncSession,
    *,
    request: Request,
    to: ChainLink,
    action: RequestAction,
    note: str,
    by: Employee | None,
    deadlines: Deadlines,
) -> None:
    """Give ``request`` to ``to``: new deadline, history event, and an alert with the reason."""
    now = clock.now()
    request.employee_id = to.employee.id
    request.status = RequestStatus.NEW
    request.acknowledged_at = None
    request.handoff_until = None
    request.due_at = due_at(request.kind, now, deadlines)
    request.updated_at = now
    record_event(
        session, request, action, by, f"→ {to.employee.display_name} ({to.role}) {note}".strip()
    )
    policyholder = await session.get(Policyholder, request.policyholder_id)
    assert policyholder is not None
    text = alert_text(request, policyholder, route_reason=ChainRole.OWNER)
    text += f"\n{note}" if note else ""
    if to.employee.telegram_chat_id is not None:
        await enqueue(
            session,
            chat_id=to.employee.telegram_chat_id,
            text=text,
            reply_markup=alert_markup(request),
            request_id=request.id,
            employee_id=to.employee.id,
            policyholder_id=request.policyholder_id,
            purpose=(
                OutboxPurpose.ESCALATION
                if action == RequestAction.ESCALATED
                else OutboxPurpose.HANDOVER
            ),
        )
    await session.flush()


async def hand_over(
    session: AsyncSession, *, request: Request, employee: Employee, deadlines: Deadlines
) -> Employee:
    """이관: pass the request to the next reachable person (deputy, then head); tell everyone."""
    await require_can_act(session, employee, request)
    if request.status not in OPEN_STATUSES:
        raise WorkspaceError("이미 종료된 요청은 이관할 수 없습니다.")
    current = request.employee_id if request.employee_id is not None else employee.id
    target = await next_in_chain(session, request, after_id=current, today=clock.today())
    if target is None or target.employee.id == employee.id:
        raise WorkspaceError(
            "이관할 수 있는 담당자가 없습니다. 대리 담당자와 부서장 모두 연락이 닿지 않아요."
        )
    await reassign(
        session,
        request=request,
        to=target,
        action=RequestAction.HANDED_OVER,
        note=HANDOVER_NOTE.format(previous=employee.display_name),
        by=employee,
        deadlines=deadlines,
    )
    if employee.reply_request_id == request.id:
        employee.reply_request_id = None
    if request.kind == RequestKind.RETENTION:  # the policyholder asked for nothing: nothing to tell
        await session.flush()
        return target.employee
    await notify_policyholder(
        session,
        request=request,
        employee=employee,
        purpose=OutboxPurpose.HANDOVER_NOTICE,
        text=PH_HANDED_OVER.format(
            reference=request.reference, employee=target.employee.display_name
        ),
    )
    await session.flush()
    return target.employee


async def reroute_from_blocked(
    session: AsyncSession, *, employee: Employee, request_id: int, deadlines: Deadlines
) -> Employee | None:
    """The assignee blocked the bot: move their open request on along the chain."""
    request = await session.get(Request, request_id)
    if request is None or request.status not in OPEN_STATUSES or request.employee_id != employee.id:
        return None
    target = await next_in_chain(session, request, after_id=employee.id, today=clock.today())
    if target is None:
        record_event(
            session, request, RequestAction.UNROUTABLE, employee, "텔레그램 차단, 넘길 담당자 없음"
        )
        return None
    await reassign(
        session,
        request=request,
        to=target,
        action=RequestAction.REROUTED,
        note=BLOCKED_NOTE.format(previous=employee.display_name),
        by=None,
        deadlines=deadlines,
    )
    return target.employee


async def start_reply(session: AsyncSession, *, request: Request, employee: Employee) -> None:
    """답장 pressed: the employee's next text goes to this request's policyholder."""
    await require_can_act(session, employee, request)
    if request.status not in OPEN_STATUSES:
        raise WorkspaceError("이미 종료된 요청입니다.")
    employee.reply_request_id = request.id
    await session.flush()
