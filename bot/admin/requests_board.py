"""Requests board queries: counts by status and kind, the filtered list with SLA state, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.filters import policyholders_in
from bot.admin.principal import Principal
from bot.admin.vocabulary import OPEN_STATUSES
from bot.clock import as_utc
from bot.db.models import Contact, Department, Employee, Policyholder, Request, RequestEvent

PER_PAGE = 50


def sla_breached(request: Request, now: datetime) -> bool:
    """Not acknowledged by its deadline (late, or still waiting after it passed)."""
    due = as_utc(request.due_at)
    if due is None:
        return False
    acknowledged = as_utc(request.acknowledged_at)
    if acknowledged is not None:
        return acknowledged > due
    return request.status in OPEN_STATUSES and due < now


def breach_condition(now: datetime) -> ColumnElement[bool]:
    """SQL form of :func:`sla_breached`."""
    return and_(
        Request.due_at.is_not(None),
        or_(
            Request.acknowledged_at > Request.due_at,
            and_(
                Request.acknowledged_at.is_(None),
                Request.status.in_(OPEN_STATUSES),
                Request.due_at < now,
            ),
        ),
    )


def request_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """A head sees requests of their department's policyholders or assigned to their staff."""
    scope = principal.scope_department_id
    if scope is None:
        return []
    holders = policyholders_in(department_id=scope, employee_id=None)
    assert holders is not None
    staff = select(Employee.id).where(Employee.department_id == scope)
    return [or_(Request.policyholder_id.in_(holders), Request.employee_id.in_(staff))]


@dataclass(frozen=True)
class BoardFilter:
    status: str | None = None
    kind: str | None = None
    breached: bool = False
    page: int = 1


@dataclass
class BoardRow:
    request: Request
    holder_name: str
    employee: str
    age: timedelta
    breached: bool


async def status_kind_counts(
    session: AsyncSession, principal: Principal
) -> dict[tuple[str, str], int]:
    """Number of requests per (status, kind)."""
    rows = await session.execute(
        select(Request.status, Request.kind, func.count())
        .where(*request_scope(principal))
        .group_by(Request.status, Request.kind)
    )
    return {(status, kind): count for status, kind, count in rows.tuples()}


async def list_requests(
    session: AsyncSession, principal: Principal, flt: BoardFilter, now: datetime
) -> tuple[list[BoardRow], bool]:
    """A page of requests, newest first, and whether there is a next page."""
    conditions = request_scope(principal)
    if flt.status:
        conditions.append(Request.status == flt.status)
    if flt.kind:
        conditions.append(Request.kind == flt.kind)
    if flt.breached:
        conditions.append(breach_condition(now))
    rows = (
        await session.execute(
            select(Request, Policyholder.name, Employee.name, Employee.title)
            .join(Policyholder, Request.policyholder_id == Policyholder.id)
            .outerjoin(Employee, Request.employee_id == Employee.id)
            .where(*conditions)
            .order_by(Request.created_at.desc(), Request.id.desc())
            .offset((max(flt.page, 1) - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        )
    ).all()
    board = []
    for request, holder_name, emp_name, emp_title in rows[:PER_PAGE]:
        created = as_utc(request.created_at) or now
        end = as_utc(request.resolved_at) or now
        board.append(
            BoardRow(
                request=request,
                holder_name=holder_name,
                employee=f"{emp_name} {emp_title}" if emp_name else "-",
                age=end - created,
                breached=sla_breached(request, now),
            )
        )
    return board, len(rows) > PER_PAGE


@dataclass
class RequestDetail:
    request: Request
    holder: Policyholder
    employee: Employee | None
    department: Department | None
    events: list[tuple[RequestEvent, str | None]]
    contacts: list[Contact]
    breached: bool


async def load_request(
    session: AsyncSession, principal: Principal, request_id: int, now: datetime
) -> RequestDetail | None:
    """One request with its history, or None when missing or outside the user's scope."""
    request = await session.scalar(
        select(Request).where(Request.id == request_id, *request_scope(principal))
    )
    if request is None:
        return None
    holder = await session.get(Policyholder, request.policyholder_id)
    assert holder is not None
    employee = await session.get(Employee, request.employee_id) if request.employee_id else None
    department = await session.get(Department, employee.department_id) if employee else None
    events = [
        (event, f"{name} {title}" if name else None)
        for event, name, title in (
            await session.execute(
                select(RequestEvent, Employee.name, Employee.title)
                .outerjoin(Employee, RequestEvent.employee_id == Employee.id)
                .where(RequestEvent.request_id == request.id)
                .order_by(RequestEvent.created_at, RequestEvent.id)
            )
        ).tuples()
    ]
    contacts = list(
        (
            await session.scalars(
                select(Contact)
                .where(Contact.request_id == request.id)
                .order_by(Contact.created_at, Contact.id)
            )
        ).all()
    )
    return RequestDetail(
        request=request,
        holder=holder,
        employee=employee,
        department=department,
        events=events,
        contacts=contacts,
        breached=sla_breached(request, now),
    )
