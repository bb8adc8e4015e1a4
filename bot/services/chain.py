"""The routing chain: who may handle a policyholder's request, in order.

The chain is the policyholder's employee (the owner) → that employee's deputy → the head of the
owner's department, no one twice. A new request goes to the first reachable person in it;
handing over, escalation and re-routing from a blocked employee move a request further along it;
anyone in it may act on the request. The chain is a pure function of the database, so every app
replica routes the same way.
"""

import enum
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Employee, Policyholder, Request


class ChainRole(enum.StrEnum):
    """A person's place in a request's chain (written in the request's history notes)."""

    OWNER = "owner"
    DEPUTY = "deputy"
    HEAD = "head"
    UNREACHABLE = "unreachable"  # a route with nobody reachable: the owner keeps the request


@dataclass(frozen=True)
class ChainLink:
    employee: Employee
    role: ChainRole


def is_reachable(employee: Employee, today: date) -> bool:
    """An employee can take an alert: linked on Telegram, not blocked, not away today."""
    if employee.telegram_chat_id is None or employee.telegram_blocked:
        return False
    away = employee.away_from is not None and employee.away_from <= today
    return not (away and (employee.away_until is None or today <= employee.away_until))


async def department_head(session: AsyncSession, department_id: int) -> Employee | None:
    return await session.scalar(
        select(Employee)
        .where(Employee.department_id == department_id, Employee.is_head.is_(True))
        .order_by(Employee.id)
        .limit(1)
    )


async def chain_of(session: AsyncSession, owner: Employee) -> list[ChainLink]:
    """``owner`` → their deputy → their department's head, no one twice."""
    links = [ChainLink(owner, ChainRole.OWNER)]
    if owner.deputy_id is not None:
        deputy = await session.get(Employee, owner.deputy_id)
        if deputy is not None:
            links.append(ChainLink(deputy, ChainRole.DEPUTY))
    head = await department_head(session, owner.department_id)
    if head is not None:
        links.append(ChainLink(head, ChainRole.HEAD))
    seen: set[int] = set()
    unique = []
    for link in links:
        if link.employee.id not in seen:
            seen.add(link.employee.id)
            unique.append(link)
    return unique


async def route_for(session: AsyncSession, *, owner: Employee, today: date) -> ChainLink:
    """Pick the first reachable of owner → deputy → department head (else the owner,
    "unreachable")."""
    for link in await chain_of(session, owner):
        if is_reachable(link.employee, today):
            return link
    return ChainLink(owner, ChainRole.UNREACHABLE)


async def route_policyholder(
    session: AsyncSession, *, policyholder: Policyholder, today: date
) -> ChainLink | None:
    """Route for a policyholder's request; None when nobody is assigned to them."""
    if policyholder.employee_id is None:
        return None
    owner = await session.get(Employee, policyholder.employee_id)
    if owner is None:
        return None
    return await route_for(session, owner=owner, today=today)


async def chain_for(session: AsyncSession, request: Request) -> list[ChainLink]:
    """The people who may handle ``request``: owner → deputy → head (no one twice)."""
    policyholder = await session.get(Policyholder, request.policyholder_id)
    owner_id = policyholder.employee_id if policyholder else None
    owner = await session.get(Employee, owner_id) if owner_id else None
    if owner is None and request.employee_id is not None:
        owner = await session.get(Employee, request.employee_id)
    if owner is None:
        return []
    return await chain_of(session, owner)


async def next_in_chain(
    session: AsyncSession, request: Request, *, after_id: int | None, today: date
) -> ChainLink | None:
    """The first reachable person further along the chain than ``after_id``."""
    chain = await chain_for(session, request)
    ids = [link.employee.id for link in chain]
    start = ids.index(after_id) + 1 if after_id in ids else 0
    for link in chain[start:]:
        if link.employee.id != after_id and is_reachable(link.employee, today):
            return link
    return None
