"""Open a policyholder's request: persist it, route it, and queue the employee's alert."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, metrics
from bot.clock import SEOUL
from bot.db.inserts import insert_unless_conflict
from bot.db.models import Policyholder, Request, RequestAction, RequestEvent, RequestKind
from bot.services.alerts import alert_buttons, alert_text
from bot.services.chain import ChainRole, route_policyholder
from bot.services.outbox import enqueue
from bot.services.sla import Deadlines, due_at

# Key of the PostgreSQL advisory lock under which replicas take turns numbering requests.
_REFERENCE_LOCK = 0x6D696C_7265  # "mil" "re"


async def _next_reference(session: AsyncSession, now: datetime) -> str:
    """The day's next reference: R-20261125-0001 … -9999, then -10000 and on.

    The numbers are compared as numbers, not strings: the longest reference of the day is the
    largest (they have no leading zeros past four digits), and "-10000" < "-9999" as text.

    On PostgreSQL the caller's transaction first takes a lock that the openers of requests take
    turns with (held until it commits): every number given out before is then committed and
    seen, so replicas opening requests at the same moment never pick the same number. The unique
    index stays the last guard (SQLite, the single-process default, has one writer).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_REFERENCE_LOCK)))
    prefix = now.astimezone(SEOUL).strftime("R-%Y%m%d-")
    last = await session.scalar(
        select(Request.reference)
        .where(Request.reference.like(prefix + "%"))
        .order_by(func.length(Request.reference).desc(), Request.reference.desc())
        .limit(1)
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


async def request_with_key(session: AsyncSession, idempotency_key: str) -> Request | None:
    """The request opened under ``idempotency_key``, if any."""
    return await session.scalar(select(Request).where(Request.idempotency_key == idempotency_key))


async def open_request(
    session: AsyncSession,
    *,
    policyholder: Policyholder,
    kind: str,
    summary: str,
    details: dict[str, Any] | None = None,
    policy_id: int | None = None,
    idempotency_key: str | None = None,
    deadlines: Deadlines,
) -> Request:
    """Create a request, assign it by routing, and queue the alert — in the caller's transaction.

    The daily reference number (R-20261125-0007) is unique; two replicas racing for the same
    number retry with the next one. With ``idempotency_key`` (one decision of the customer, e.g.
    one confirmation of a form) a request already opened under that key is returned as it is:
    no second request, no second alert.
    """
    if idempotency_key is not None:
        existing = await request_with_key(session, idempotency_key)
        if existing is not None:
            return existing
    now = clock.now()
    route = await route_policyholder(
        session, policyholder=policyholder, today=now.astimezone(SEOUL).date()
    )
    for _attempt in range(5):
        # Two workers may pick the same next number; the loser takes the one after.
        request_id = await insert_unless_conflict(
            session,
            Request,
            None,
            reference=await _next_reference(session, now),
            idempotency_key=idempotency_key,
            kind=kind,
            urgent=kind == RequestKind.FUNERAL,
            policyholder_id=policyholder.id,
            employee_id=route.employee.id if route else None,
            policy_id=policy_id,
            summary=summary,
            details=details or {},
            created_at=now,
            updated_at=now,
            due_at=due_at(kind, now, deadlines),
        )
        if request_id is not None:
            break
        if idempotency_key is not None:
            # The conflict may be the key: the same decision, submitted at the same moment.
            existing = await request_with_key(session, idempotency_key)
            if existing is not None:
                return existing
    else:
        raise RuntimeError("could not allocate a request reference")
    request = await session.get_one(Request, request_id)

    note = f"배정: {route.employee.display_name} ({route.role})" if route else "배정할 직원 없음"
    session.add(
        RequestEvent(
            request_id=request.id,
            action=RequestAction.CREATED,
            note=note,
            created_at=now,
            employee_id=route.employee.id if route else None,
        )
    )
    if (
        route
        and route.employee.telegram_chat_id is not None
        and route.role != ChainRole.UNREACHABLE
    ):
        await enqueue(
            session,
            chat_id=route.employee.telegram_chat_id,
            text=alert_text(request, policyholder, route_reason=route.role),
            reply_markup=alert_buttons(request.id, kind=kind),
            request_id=request.id,
            employee_id=route.employee.id,
            policyholder_id=policyholder.id,
        )
    await session.flush()
    metrics.REQUESTS_OPENED.labels(kind).inc()
    return request
