"""담당 배정: every employee's policyholders with the home-to-home distance."""

from __future__ import annotations

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot.admin import audit
from bot.admin.assignments import employee_loads, latest_run
from bot.admin.auth import current_principal
from bot.admin.routes.common import db, render
from bot.db.models import Department
from bot.geo.geocode import LEVEL_LABELS, Level


async def employee_list(request: Request) -> Response:
    """All employees (a head: their department) with load, mean and longest distance."""
    async with db(request) as session:
        principal = await current_principal(request, session)
        department_id = principal.scope_department_id
        if department_id is None:
            value = request.query_params.get("department", "")
            department_id = int(value) if value.isdigit() else None
        loads = await employee_loads(session, department_id=department_id)
        departments = (
            list((await session.scalars(select(Department).order_by(Department.name))).all())
            if principal.scope_department_id is None
            else []
        )
        run = await latest_run(session)
        audit.record(session, principal, "view", "employees", f"dept={department_id}")
    return render(
        request,
        "employees.html",
        {"loads": loads, "departments": departments, "department_id": department_id, "run": run},
        principal=principal,
    )


async def employee_view(request: Request) -> Response:
    """One employee's policyholders, nearest first, with distance and how the home was placed."""
    employee_id = request.path_params["employee_id"]
    async with db(request) as session:
        principal = await current_principal(request, session)
        loads = await employee_loads(session, employee_id=employee_id)
        if not loads:
            raise HTTPException(status_code=404)
        load = loads[0]
        scope = principal.scope_department_id
        if scope is not None and load.employee.department_id != scope:
            raise HTTPException(status_code=404)
        audit.record(session, principal, "view", f"employee:{employee_id}")
    levels = {str(level): label for level, label in LEVEL_LABELS.items()}
    return render(
        request,
        "employee.html",
        {"load": load, "levels": levels, "coarse": {str(Level.SIGUNGU), str(Level.SIDO)}},
        principal=principal,
    )
