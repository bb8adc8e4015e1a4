"""The conversation filter: parsed from the query string, turned into WHERE conditions.

The same filter drives the conversation list, the search and the CSV export, so what an admin
exports is exactly what they were looking at.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from starlette.datastructures import QueryParams

from bot.admin.principal import Principal
from bot.admin.search import text_condition
from bot.admin.vocabulary import (
    ALL_INTENTS,
    FALLBACK_INTENT,
    LOW_CONFIDENCE,
    REQUEST_KINDS,
    REQUEST_STATUSES,
)
from bot.clock import SEOUL
from bot.db.models import Contact, Employee, Policyholder, Request
from bot.services.reports import FIRST_YEAR, LAST_YEAR

MAX_QUERY_LENGTH = 100
MAX_ID = 2**31 - 1


def _int_or_none(value: str | None) -> int | None:
    """An id from the query string (ASCII digits, within the schema's integers) or None."""
    if not value or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def _date_or_none(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    # 9999-12-31 would overflow "the day after" in the query.
    return day if day is not None and FIRST_YEAR <= day.year <= LAST_YEAR else None


def _clean_query(value: str | None) -> str:
    """The search text without control characters (PostgreSQL refuses a NUL in a string)."""
    text = "".join(ch for ch in (value or "") if ch.isprintable() or ch == " ")
    return text.strip()[:MAX_QUERY_LENGTH]


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def seoul_day_start(day: date) -> datetime:
    """Midnight in Seoul at the start of ``day``, as UTC (how times are stored)."""
    return datetime.combine(day, time.min, tzinfo=SEOUL).astimezone(UTC)


@dataclass(frozen=True)
class ContactFilter:
    """What the admin asked to see; every field is optional."""

    date_from: date | None = None
    date_to: date | None = None
    department: int | None = None
    employee: int | None = None
    intent: str | None = None
    kind: str | None = None
    status: str | None = None
    low: bool = False
    q: str = ""

    @classmethod
    def from_query(cls, params: QueryParams) -> ContactFilter:
        """Read the filter from a query string, ignoring values that make no sense."""
        return cls(
            date_from=_date_or_none(params.get("date_from")),
            date_to=_date_or_none(params.get("date_to")),
            department=_int_or_none(params.get("department")),
            employee=_int_or_none(params.get("employee")),
            intent=_choice(params.get("intent"), ALL_INTENTS),
            kind=_choice(params.get("kind"), REQUEST_KINDS),
            status=_choice(params.get("status"), REQUEST_STATUSES),
            low=params.get("low") in ("1", "on", "true"),
            q=_clean_query(params.get("q")),
        )

    def query_string(self, **overrides: object) -> str:
        """The filter as a query string (for paging and export links)."""
        values: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(overrides)
        pairs = []
        for key, value in values.items():
            if value is None or value == "" or value is False:
                continue
            pairs.append((key, "1" if value is True else str(value)))
        return urlencode(pairs)

    def describe(self) -> str:
        """A compact record of the filter for the audit log."""
        parts = [
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if getattr(self, f.name) not in (None, "", False)
        ]
        return " ".join(parts) or "(전체)"


def policyholders_in(
    *, department_id: int | None, employee_id: int | None
) -> Select[tuple[int]] | None:
    """Ids of policyholders assigned to an employee and/or within a department."""
    if department_id is None and employee_id is None:
        return None
    stmt = select(Policyholder.id).join(Employee, Policyholder.employee_id == Employee.id)
    if department_id is not None:
        stmt = stmt.where(Employee.department_id == department_id)
    if employee_id is not None:
        stmt = stmt.where(Employee.id == employee_id)
    return stmt


def _broad(column: InstrumentedAttribute[int | None]) -> ColumnElement[int | None]:
    """``column + 0``: the same values, but the planner will not look rows up through an index
    on it. Used for conditions that keep a large share of rows (a department is hundreds of
    policyholders): walking the time index newest first and testing each row finds a page of
    conversations far sooner than fetching every matching row by policyholder and sorting."""
    return column + 0


async def contact_conditions(
    session: AsyncSession, flt: ContactFilter, principal: Principal
) -> list[ColumnElement[bool]]:
    """WHERE conditions on ``Contact`` for the filter, always within the user's scope."""
    conditions: list[ColumnElement[bool]] = []
    scope = principal.scope_department_id
    if scope is not None:
        in_scope = policyholders_in(department_id=scope, employee_id=None)
        assert in_scope is not None
        conditions.append(_broad(Contact.policyholder_id).in_(in_scope))
    if flt.employee is not None:  # ~25 policyholders: reading their threads by index is best
        chosen = policyholders_in(department_id=flt.department, employee_id=flt.employee)
        assert chosen is not None
        conditions.append(Contact.policyholder_id.in_(chosen))
    elif flt.department is not None:
        chosen = policyholders_in(department_id=flt.department, employee_id=None)
        assert chosen is not None
        conditions.append(_broad(Contact.policyholder_id).in_(chosen))
    if flt.date_from is not None:
        conditions.append(Contact.created_at >= seoul_day_start(flt.date_from))
    if flt.date_to is not None:
        conditions.append(Contact.created_at < seoul_day_start(flt.date_to + timedelta(days=1)))
    if flt.intent is not None:
        conditions.append(Contact.intent == flt.intent)
    if flt.low:
        conditions.append(
            or_(Contact.intent == FALLBACK_INTENT, Contact.confidence < LOW_CONFIDENCE)
        )
    if flt.kind is not None or flt.status is not None:
        with_requests = select(Request.policyholder_id)
        if flt.kind is not None:
            with_requests = with_requests.where(Request.kind == flt.kind)
        if flt.status is not None:
            with_requests = with_requests.where(Request.status == flt.status)
        conditions.append(_broad(Contact.policyholder_id).in_(with_requests))
    if flt.q:
        conditions.append(await text_condition(session, flt.q))
    return conditions
