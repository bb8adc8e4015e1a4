"""The employee's own book: their policyholders (/mine), open requests (/open), the visits and
calls they log, and their absences (/away)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import as_utc
from bot.db.models import (
    OPEN_STATUSES,
    Contact,
    ContactChannel,
    ContactSender,
    Employee,
    Policyholder,
    Request,
)
from bot.services.casefile import WorkspaceError
from bot.services.ledger import record_contact


async def log_touch(
    session: AsyncSession,
    *,
    employee: Employee,
    policyholder: Policyholder,
    channel: ContactChannel,
    note: str,
    telegram_update_id: int | None = None,
) -> Contact:
    """Record a visit or phone call the employee made (channel ``visit`` or ``phone``)."""
    if channel not in (ContactChannel.VISIT, ContactChannel.PHONE):
        raise ValueError(channel)
    if policyholder.employee_id != employee.id:
        raise WorkspaceError("담당하시는 계약자만 기록할 수 있습니다.")
    return await record_contact(
        session,
        direction="out",
        sender=ContactSender.EMPLOYEE,
        channel=channel,
        text=note.strip(),
        policyholder_id=policyholder.id,
        employee_id=employee.id,
        telegram_update_id=telegram_update_id,
    )


async def set_away(
    session: AsyncSession, *, employee: Employee, start: date | None, end: date | None
) -> None:
    """Set (or with ``None, None`` clear) the employee's absence; routing skips them meanwhile."""
    if start is not None and end is not None and end < start:
        raise WorkspaceError("끝나는 날짜가 시작 날짜보다 빠릅니다.")
    employee.away_from = start
    employee.away_until = end
    await session.flush()


@dataclass(frozen=True)
class PolicyholderLine:
    number: int  # position in the employee's list, used by /visit and /call
    policyholder: Policyholder
    last_contact: datetime | None
    open_requests: int


async def my_policyholders(session: AsyncSession, *, employee: Employee) -> list[PolicyholderLine]:
    """The employee's policyholders by name, with the last contact and open request count."""
    last = (
        select(Contact.policyholder_id, func.max(Contact.created_at).label("last"))
        .group_by(Contact.policyholder_id)
        .subquery()
    )
    open_count = (
        select(Request.policyholder_id, func.count(Request.id).label("n"))
        .where(Request.status.in_(OPEN_STATUSES))
        .group_by(Request.policyholder_id)
        .subquery()
    )
    rows = await session.execute(
        select(Policyholder, last.c.last, open_count.c.n)
        .outerjoin(last, last.c.policyholder_id == Policyholder.id)
        .outerjoin(open_count, open_count.c.policyholder_id == Policyholder.id)
        .where(Policyholder.employee_id == employee.id)
        .order_by(Policyholder.name, Policyholder.id)
    )
    return [
        PolicyholderLine(
            number=i,
            policyholder=ph,
            last_contact=as_utc(when) if isinstance(when, datetime) else None,
            open_requests=n or 0,
        )
        for i, (ph, when, n) in enumerate(rows.all(), start=1)
    ]


async def find_my_policyholder(
    session: AsyncSession, *, employee: Employee, key: str
) -> Policyholder:
    """One of the employee's policyholders by list number or by (unique) name."""
    lines = await my_policyholders(session, employee=employee)
    if key.isdigit():
        for line in lines:
            if line.number == int(key):
                return line.policyholder
        raise WorkspaceError(f"{key}번 계약자가 없습니다. /mine 으로 번호를 확인해 주세요.")
    matches = [line.policyholder for line in lines if line.policyholder.name == key]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise WorkspaceError(f"담당 계약자 중 '{key}' 님이 없습니다. /mine 으로 확인해 주세요.")
    raise WorkspaceError(f"'{key}' 님이 여러 명입니다. /mine 의 번호로 지정해 주세요.")


async def open_requests(session: AsyncSession, *, employee: Employee) -> list[Request]:
    """Open requests assigned to the employee, most urgent deadline first."""
    rows = await session.scalars(
        select(Request)
        .where(Request.employee_id == employee.id, Request.status.in_(OPEN_STATUSES))
        .order_by(Request.urgent.desc(), Request.due_at.is_(None), Request.due_at, Request.id)
    )
    return list(rows.all())
