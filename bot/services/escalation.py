"""SLA escalation: a request nobody acknowledged in time moves to the deputy, then to the head.

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

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock, metrics
from bot.clock import SEOUL
from bot.db.engine import session_scope
from bot.db.models import Employee, Request, RequestEvent, RequestStatus
from bot.services import sla
from bot.services.periodic import run_every
from bot.services.workspace import ESCALATION_NOTE, next_in_chain, reassign

log = logging.getLogger(__name__)

MAX_LEVEL = 2  # owner → deputy → head


async def escalate_due(session: AsyncSession, *, now: datetime, limit: int = 100) -> int:
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
        deadline = sla.current().describe(request.kind)
        if target is None:
            # Nobody further can be reached: record it once and stop the clock on this request.
            request.due_at = None
            request.escalation_level = MAX_LEVEL
            session.add(
                RequestEvent(
                    request_id=request.id,
                    action="escalation_exhausted",
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
            action="escalated",
            note=ESCALATION_NOTE.format(
                deadline=deadline,
                previous=previous.display_name if previous else "담당자",
            ),
            by=None,
        )
        request.escalation_level = (
            MAX_LEVEL if target.role == "head" else request.escalation_level + 1
        )
        if request.escalation_level >= MAX_LEVEL:
            request.due_at = None  # the head was told; there is nobody above
        moved += 1
        log.info(
            "request %s escalated to %s (%s)", request.reference, target.employee.id, target.role
        )
    await session.flush()
    return moved


async def run_escalation_worker(
    sessions: async_sessionmaker[AsyncSession], *, interval: float, stop: asyncio.Event
) -> None:
    """Run ``escalate_due`` every ``interval`` seconds until ``stop`` is set."""

    async def escalation_round() -> None:
        async with session_scope(sessions) as session:
            await escalate_due(session, now=clock.now())

    await run_every(interval, stop, escalation_round, name="escalation")
