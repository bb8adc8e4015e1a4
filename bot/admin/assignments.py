"""Queries for the console's 담당 배정 pages: each employee's policyholders and how far they live."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AssignmentRun, Department, Employee, Policyholder
from bot.geo.distance import distance_m


@dataclass(frozen=True, slots=True)
class HolderDistance:
    id: int
    name: str
    address: str
    geocode_level: str | None
    distance_m: float | None  # None when either home is not located


@dataclass(frozen=True, slots=True)
class EmployeeLoad:
    employee: Employee
    department: str
    holders: list[HolderDistance]

    @property
    def located(self) -> list[float]:
        return [h.distance_m for h in self.holders if h.distance_m is not None]

    @property
    def mean_m(self) -> float | None:
        return sum(self.located) / len(self.located) if self.located else None

    @property
    def longest_m(self) -> float | None:
        return max(self.located) if self.located else None


async def employee_loads(
    session: AsyncSession, *, department_id: int | None = None, employee_id: int | None = None
) -> list[EmployeeLoad]:
    """Employees (of one department, or one employee) with their policyholders, nearest first."""
    query = (
        select(Employee, Department.name)
        .join(Department, Employee.department_id == Department.id)
        .order_by(Department.name, Employee.is_head.desc(), Employee.employee_no, Employee.id)
    )
    if department_id is not None:
        query = query.where(Employee.department_id == department_id)
    if employee_id is not None:
        query = query.where(Employee.id == employee_id)
    employees = (await session.execute(query)).tuples().all()
    ids = [e.id for e, _ in employees]
    holders: dict[int, list[Policyholder]] = {i: [] for i in ids}
    if ids:
        for h in await session.scalars(
            select(Policyholder).where(Policyholder.employee_id.in_(ids))
        ):
            holders[h.employee_id or 0].append(h)
    loads = []
    for employee, department in employees:
        home = (
            (employee.home_lat, employee.home_lon)
            if employee.home_lat is not None and employee.home_lon is not None
            else None
        )
        rows = [
            HolderDistance(
                id=h.id,
                name=h.name,
                address=h.address,
                geocode_level=h.geocode_level,
                distance_m=(
                    distance_m((h.lat, h.lon), home)
                    if home is not None and h.lat is not None and h.lon is not None
                    else None
                ),
            )
            for h in holders[employee.id]
        ]
        rows.sort(key=lambda r: (r.distance_m is None, r.distance_m or 0.0, r.name))
        loads.append(EmployeeLoad(employee, department, rows))
    return loads


async def latest_run(session: AsyncSession) -> AssignmentRun | None:
    """The last applied assignment, if any."""
    return await session.scalar(select(AssignmentRun).order_by(AssignmentRun.id.desc()).limit(1))
