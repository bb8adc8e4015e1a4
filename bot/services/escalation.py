"""SLA escalation: a request nobody acknowledged in time moves to the deputy, then to the head;
an open request whose employee blocked the bot moves on along the chain too.

All state is in the database — ``requests.due_at`` (next deadline, NULL when there is nowhere
further to go) and ``requests.escalation_level`` (steps taken) — so the job can stop and start
at any time, and several app processes can run it: each due request is taken with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL and moved in the same transaction that queues its alert,
so every escalation alert is queued exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock, metrics
from bot.clock import SEOUL
from bot.db.engine import session_scope
from bot.db.models import (
    OPEN_STATUSES,
    Employee,
    Request,
    RequestAction,
    RequestEvent,
    RequestStatus,
)
from bot.employee_texts import ESCALATION_NOTE
from bot.services.casework import reassign, reroute_from_blocked
from bot.services.chain import ChainRole, next_in_chain
from bot.services.periodic import run_every
from bot.services.sla import Deadlines

log = logging.getLogger(__name__)

MAX_LEVEL = 2  # owner → deputy → head


async def escalate_due(
    session: AsyncSession, *, now: datetime, deadlines: Deadlines, limit: int = 100
) -> int:
    """Escalate every unacknowledged request past its deadline; return how many moved.

    Runs in the caller's transaction; commit afterwards.
    """
    due = await session.scalars(
        select(Request)
        .where(
            Request.status == RequestStatus.NEW,
            Request.due_at.is_not(None),
            Request.due_at <= now,
            Request.escalation_level < MAX_LEVEL,
        )
        .order_by(Request.due_at, Request.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    moved = 0
    today = now.astimezone(SEOUL).date()
    for request in list(due.all()):
        metrics.SLA_BREACHES.labels(request.kind).inc()
        previous = await session.get(Employee, request.employee_id) if request.employee_id else None
        target = await next_in_chain(session, request, after_id=request.employee_id, today=today)
        deadline = deadlines.describe(request.kind)
        if target is None:
            # Nobody further can be reached: record it once and stop the clock on this request.
            request.due_at = None
            request.escalation_level = MAX_LEVEL
            session.add(
                RequestEvent(
                    request_id=request.id,
                    action=RequestAction.ESCALATION_EXHAUSTED,
                    note=f"접수 기한({deadline}) 경과, 더 넘길 담당자 없음",
                    created_at=now,
                )
            )
            log.warning("request %s: overdue and nobody left to escalate to", request.reference)
            continue
        await reassign(
            session,
            request=request,
            to=target,
            action=RequestAction.ESCALATED,
            note=ESCALATION_NOTE.format(
                deadline=deadline,
                previous=previous.display_name if previous else "담당자",
            ),
            by=None,
            deadlines=deadlines,
        )
        request.escalation_level = (
            MAX_LEVEL if target.role == ChainRole.HEAD else request.escalation_level + 1
        )
        if request.escalation_level >= MAX_LEVEL:
            request.due_at = None  # the head was told; there is nobody above
        moved += 1
        log.info(
            "request %s escalated to %s (%s)", request.reference, target.employee.id, target.role
        )
    await session.flush()
    return moved


async def reroute_blocked(session: AsyncSession, *, deadlines: Deadlines, limit: int = 100) -> int:
    """Move the open requests of employees who blocked the bot on along the chain (the outbox
    marks them blocked on a 403); return how many moved.

    A request nobody further can take stays put with one ``unroutable`` event, so it is not
    tried again every round. Runs in the caller's transaction; commit afterwards.
    """
    already_unroutable = exists().where(
        RequestEvent.request_id == Request.id,
        RequestEvent.action == RequestAction.UNROUTABLE,
        RequestEvent.employee_id == Request.employee_id,
    )
    stuck = await session.execute(
        select(Request.id, Employee)
        .join(
            Employee, and_(Employee.id == Request.employee_id, Employee.telegram_blocked.is_(True))
        )
        .where(Request.status.in_(OPEN_STATUSES), ~already_unroutable)
        .order_by(Request.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Request)
    )
    moved = 0
    for request_id, employee in stuck.all():
        target = await reroute_from_blocked(
            session, employee=employee, request_id=request_id, deadlines=deadlines
        )
        moved += target is not None
    await session.flush()
    return moved


async def run_escalation_worker(
    sessions: async_sessionmaker[AsyncSession],
    *,
    deadlines: Deadlines,
    interval: float,
    stop: asyncio.Event,
) -> None:
    """Run ``escalate_due`` every ``interval`` seconds until ``stop`` is set."""

    async def escalation_round() -> None:
        async with session_scope(sessions) as session:
            # First the blocked: a re-routed request gets a new deadline and is not escalated.
            await reroute_blocked(session, deadlines=deadlines)
            await escalate_due(session, now=clock.now(), deadlines=deadlines)

    await run_every(interval, stop, escalation_round, name="escalation")
