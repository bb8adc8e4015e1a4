"""The weekly department report as a page with charts, and as CSV."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from bot import clock
from bot.admin import audit
from bot.admin.auth import current_principal
from bot.admin.charts import bar_chart
from bot.admin.principal import Principal
from bot.admin.privacy import redact_report
from bot.admin.routes.common import MAX_ID, db, render
from bot.db.models import Department
from bot.services.csv_safe import UTF8_BOM, csv_line
from bot.services.labels import KIND_LABELS
from bot.services.reports import (
    Week,
    WeekError,
    WeeklyReport,
    report_csv_rows,
    weekly_report,
)


def _week(request: Request) -> Week:
    try:
        return Week.parse(request.query_params.get("week", ""))
    except WeekError:
        return Week.containing(clock.now()).previous()


def _department(request: Request, principal: Principal) -> int | None:
    if principal.scope_department_id is not None:
        return principal.scope_department_id
    value = request.query_params.get("department", "")
    # ASCII digits only: "²".isdigit() is true but int("²") fails (a 500 before).
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def _charts(report: WeeklyReport) -> dict[str, object]:
    """Charts for the page: contacts and contact rate per department or employee, and kinds."""
    single = len(report.departments) == 1
    if single:
        units = [(f"{e.name}", e.figures) for e in report.departments[0].employees]
    else:
        units = [(d.name, d.figures) for d in report.departments]
    kinds: dict[str, int] = {}
    for dept in report.departments:
        for kind, count in dept.figures.requests_by_kind.items():
            kinds[kind] = kinds.get(kind, 0) + count
    return {
        "chart_contacts": bar_chart([(name, f.contacts) for name, f in units]),
        "chart_share": bar_chart(
            [(name, (f.share_week or 0) * 100) for name, f in units],
            value_format="{:.0f}%",
            max_value=100,
            color="#3c8d5a",
        ),
        "chart_kinds": bar_chart(
            [(KIND_LABELS.get(k, k), v) for k, v in kinds.items()], color="#9a5b2f"
        ),
        "chart_by_employee": single,
    }


async def weekly_page(request: Request) -> Response:
    """The report for one ISO week (default: last week)."""
    week = _week(request)
    async with db(request) as session:
        principal = await current_principal(request, session)
        department_id = _department(request, principal)
        report = await weekly_report(session, week=week, department_id=department_id)
        if principal.masks_personal_data:
            report = await redact_report(session, report)
        departments = (
            list((await session.scalars(select(Department).order_by(Department.name))).all())
            if principal.scope_department_id is None
            else []
        )
        audit.record(session, principal, "view", f"report:{week.label}", f"dept={department_id}")
    return render(
        request,
        "report.html",
        {
            "report": report,
            "week": week,
            "department_id": department_id,
            "departments": departments,
            "kind_labels": KIND_LABELS,
            **_charts(report),
        },
        principal=principal,
    )


async def weekly_csv(request: Request) -> Response:
    """The same figures as CSV."""
    week = _week(request)
    async with db(request) as session:
        principal = await current_principal(request, session)
        department_id = _department(request, principal)
        report = await weekly_report(session, week=week, department_id=department_id)
        if principal.masks_personal_data:
            report = await redact_report(session, report)
        audit.record(session, principal, "export", f"report:{week.label}", f"dept={department_id}")
    body = UTF8_BOM + "".join(csv_line(row) for row in report_csv_rows(report))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="milchak-{week.label}.csv"'},
    )
