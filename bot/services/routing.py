"""Who handles a policyholder's request: their employee, else the deputy, else the head.

Routing is a pure function of the database, so every app replica routes the same way.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Employee, Policyholder


@dataclass(frozen=True)
class Route:
    employee: Employee
    reason: str  # owner|deputy|head|unreachable


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


async def route_for(session: AsyncSession, *, owner: Employee, today: date) -> Route:
    """Pick the first reachable of owner → deputy → department head."""
    if is_reachable(owner, today):
        return Route(owner, "owner")
    if owner.deputy_id is not None:
        deputy = await session.get(Employee, owner.deputy_id)
        if deputy is not None and is_reachable(deputy, today):
            return Route(deputy, "deputy")
    head = await department_head(session, owner.department_id)
    if head is not None and is_reachable(head, today):
        return Route(head, "head")
    return Route(owner, "unreachable")


async def route_policyholder(
    session: AsyncSession, *, policyholder: Policyholder, today: date
) -> Route | None:
    """Route for a policyholder's request; None when nobody is assigned to them."""
    if policyholder.employee_id is None:
        return None
    owner = await session.get(Employee, policyholder.employee_id)
    if owner is None:
        return None
    return await route_for(session, owner=owner, today=today)
