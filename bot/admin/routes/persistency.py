"""유지율: 13/25회차 persistency per department and employee, the contact survival analysis,
prevented lapses; as a page and as CSV. Heads see their own department only."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from bot import clock
from bot.admin import audit
from bot.admin.auth import current_principal
from bot.admin.principal import Principal
from bot.admin.routes.common import db, render
from bot.admin.survival_chart import survival_chart
from bot.clock import SEOUL
from bot.db.models import Department, PolicyEvent
from bot.services.csv_safe import UTF8_BOM, csv_line
from bot.services.persistency import (
    MEASURES,
    Rate,
    Window,
    company_rates,
    format_change,
    format_interval,
    format_rate,
    persistency_report,
    products,
    report_csv_rows,
    window_text,
)
from bot.services.policy_history import add_months, month_index, month_start
from bot.services.retention import retention_outcomes
from bot.services.survival import LANDMARK_MONTHS, SurvivalReport, analyse, load_lives

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_SURVIVAL_TTL = 600.0  # seconds; the analysis takes seconds and the history changes daily
_survival_cache: dict[tuple[Any, ...], tuple[float, SurvivalReport]] = {}


def _as_of(request: Request) -> date:
    try:
        return date.fromisoformat(request.query_params.get("as_of", ""))
    except ValueError:
        return clock.today()


def _cohort(request: Request) -> date | None:
    match = _MONTH.match(request.query_params.get("cohort", ""))
    if not match or not 1 <= int(match[2]) <= 12:
        return None
    return date(int(match[1]), int(match[2]), 1)


def _department(request: Request, principal: Principal) -> int | None:
    if principal.scope_department_id is not None:
        return principal.scope_department_id
    value = request.query_params.get("department", "")
    return int(value) if value.isdigit() else None


async def _survival(
    session: AsyncSession, *, as_of: date, department_id: int | None, product: str | None
) -> SurvivalReport:
    """The survival analysis, computed off the event loop and kept for a few minutes."""
    key = (as_of, department_id, product)
    cached = _survival_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < _SURVIVAL_TTL:
        return cached[1]
    lives = await load_lives(session, as_of=as_of, department_id=department_id, product=product)
    report = await asyncio.to_thread(analyse, lives, as_of=as_of)
    if len(_survival_cache) > 32:
        _survival_cache.clear()
    _survival_cache[key] = (time.monotonic(), report)
    return report


async def _previous(
    session: AsyncSession, window: Window, department_id: int | None, product: str | None
) -> dict[int, Rate]:
    previous = window.previous_month()
    if department_id is None:
        return await company_rates(session, window=previous, product=product)
    report = await persistency_report(
        session,
        as_of=previous.as_of,
        department_id=department_id,
        product=product,
        cohort_month=previous.cohort_month,
    )
    return report.departments[0].figures.rates if report.departments else {}


def _seoul_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SEOUL).astimezone(UTC)


async def persistency_page(request: Request) -> Response:
    """The page: filters, headline figures, survival chart, tables."""
    as_of, cohort = _as_of(request), _cohort(request)
    async with db(request) as session:
        principal = await current_principal(request, session)
        department_id = _department(request, principal)
        product_names = await products(session)
        product = request.query_params.get("product") or None
        if product not in product_names:
            product = None
        report = await persistency_report(
            session, as_of=as_of, department_id=department_id, product=product, cohort_month=cohort
        )
        previous = await _previous(session, report.window, department_id, product)
        company = (
            await company_rates(session, window=report.window, product=product)
            if department_id is not None
            else None
        )
        survival = await _survival(
            session, as_of=as_of, department_id=department_id, product=product
        )
        outcomes = await retention_outcomes(
            session,
            since=_seoul_start(add_months(as_of, -12)),
            until=_seoul_start(as_of + timedelta(days=1)),
            department_id=department_id,
        )
        demo = await session.scalar(select(PolicyEvent.id).where(PolicyEvent.source == "seed"))
        departments = (
            list((await session.scalars(select(Department).order_by(Department.name))).all())
            if principal.scope_department_id is None
            else []
        )
        audit.record(session, principal, "view", f"persistency:{as_of}", f"dept={department_id}")
    top = (
        report.departments[0].figures
        if department_id is not None and report.departments
        else report.company
    )
    chart = None
    if survival.landmark is not None:
        chart = survival_chart(
            [survival.landmark.reached, survival.landmark.not_reached],
            horizon=LANDMARK_MONTHS,
        )
    last_month = month_index(as_of) - 1
    cohort_months = [month_start(i) for i in range(last_month - 36, last_month + 1)]
    return render(
        request,
        "persistency.html",
        {
            "report": report,
            "top": top,
            "previous": previous,
            "company": company,
            "measures": MEASURES,
            "windows": {n: window_text(report.window, n) for n in MEASURES},
            "survival": survival,
            "chart": chart,
            "outcomes": outcomes,
            "demo": demo is not None,
            "as_of": as_of,
            "cohort": cohort,
            "cohort_months": list(reversed(cohort_months)),
            "product": product,
            "products": product_names,
            "department_id": department_id,
            "departments": departments,
            "by_cohort": sorted(report.by_cohort.items()),
            "month_label": lambda index: f"{month_start(index):%Y-%m}",
            "rate": format_rate,
            "interval": format_interval,
            "change": format_change,
        },
        principal=principal,
    )


async def persistency_csv(request: Request) -> Response:
    """The same figures as CSV (company, departments, employees)."""
    as_of, cohort = _as_of(request), _cohort(request)
    async with db(request) as session:
        principal = await current_principal(request, session)
        department_id = _department(request, principal)
        product = request.query_params.get("product") or None
        report = await persistency_report(
            session, as_of=as_of, department_id=department_id, product=product, cohort_month=cohort
        )
        audit.record(session, principal, "export", f"persistency:{as_of}", f"dept={department_id}")
    body = UTF8_BOM + "".join(csv_line(row) for row in report_csv_rows(report))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="milchak-persistency-{as_of}.csv"'},
    )
