"""The weekly department report (부서장회의 추진실적): figures per department and per employee.

Weeks are ISO weeks in Seoul time (Monday 00:00 to the next Monday 00:00). Definitions:

* contacts — ledger rows in the week with a person in them (policyholder or employee; the bot's
  own replies are not counted), for policyholders assigned to the employee;
* reached — distinct policyholders among those contacts;
* contacted this week / month — assigned policyholders who had a contact *from* the company's
  side (an employee reply, a visit, a call: sender ``employee``), as a share of all assigned;
  "month" runs from the first day of the month of the week's Sunday to the end of the week;
* requests by kind — requests created in the week, attributed to the assigned employee;
* still open — of those, the ones not yet resolved or cancelled when the report is made;
* median time to acknowledge / resolve — over requests acknowledged / resolved in the week;
* SLA breaches — requests whose deadline fell in the week and that were acknowledged late or not
  at all (deadlines are for acknowledgement, see the escalation job);
* ratings — requests resolved in the week that carry a rating;
* top complaint categories / service wishes — ``details["category"]`` of complaint / suggestion
  requests created in the week (a suggestion without a category counts under its summary);
* undelivered — messages queued in the week that the outbox finally gave up on (an alert, a
  relay, a notice: see the console's "발송 실패"), for the employee they were to or from, else
  the policyholder's employee.

An edited message is stored as an edit of its original and is not counted again as a contact.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.clock import SEOUL, as_utc
from bot.db.models import (
    OPEN_STATUSES,
    Contact,
    ContactSender,
    Department,
    Employee,
    OutboxMessage,
    Policyholder,
    Request,
    RequestKind,
)
from bot.services.csv_safe import csv_line
from bot.services.labels import KIND_LABELS

REQUEST_KINDS = tuple(str(kind) for kind in RequestKind)
_OPEN = tuple(str(status) for status in OPEN_STATUSES)
_WEEK = re.compile(r"^([0-9]{4})-W([0-9]{1,2})$")
# Weeks the report can be about; beyond them date arithmetic (next week's link) would overflow.
FIRST_YEAR, LAST_YEAR = 1900, 2999
TOP_N = 5


class WeekError(ValueError):
    """A week that is not written like 2026-W48."""


@dataclass(frozen=True)
class Week:
    """An ISO week and its bounds in UTC."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        match = _WEEK.match(text.strip())
        if not match:
            raise WeekError(f"주는 2026-W48 처럼 써 주세요: {text}")
        year, number = int(match[1]), int(match[2])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise WeekError(f"{FIRST_YEAR}~{LAST_YEAR}년의 주만 볼 수 있습니다: {text}")
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise WeekError(f"없는 주입니다: {text}") from exc
        return cls(year, number)

    @classmethod
    def containing(cls, moment: datetime) -> Week:
        iso = moment.astimezone(SEOUL).isocalendar()
        return cls(iso.year, iso.week)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        return _seoul_midnight(self.monday)

    @property
    def end(self) -> datetime:
        return _seoul_midnight(self.monday + timedelta(days=7))

    @property
    def month_start(self) -> datetime:
        return _seoul_midnight(self.sunday.replace(day=1))

    def previous(self) -> Week:
        return Week.containing(self.start - timedelta(days=1))

    def next(self) -> Week:
        return Week.containing(self.end + timedelta(days=1))


def _seoul_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SEOUL).astimezone(UTC)


@dataclass
class Figures:
    """The report's figures for one employee or one department."""

    assigned: int = 0
    contacts: int = 0
    reached: int = 0
    contacted_week: int = 0
    contacted_month: int = 0
    requests_by_kind: dict[str, int] = field(default_factory=dict)
    still_open: int = 0
    median_acknowledge: timedelta | None = None
    median_resolve: timedelta | None = None
    sla_breaches: int = 0
    ratings: list[int] = field(default_factory=list)
    undelivered: int = 0

    @property
    def requests(self) -> int:
        return sum(self.requests_by_kind.values())

    @property
    def share_week(self) -> float | None:
        return self.contacted_week / self.assigned if self.assigned else None

    @property
    def share_month(self) -> float | None:
        return self.contacted_month / self.assigned if self.assigned else None

    @property
    def rating_average(self) -> float | None:
        return statistics.fmean(self.ratings) if self.ratings else None


@dataclass
class EmployeeReport:
    employee_id: int
    name: str
    title: str
    figures: Figures


@dataclass
class DepartmentReport:
    department_id: int
    name: str
    figures: Figures
    employees: list[EmployeeReport]
    top_complaints: list[tuple[str, int]]
    top_wishes: list[tuple[str, int]]


@dataclass
class WeeklyReport:
    week: Week
    generated_at: datetime
    departments: list[DepartmentReport]


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


async def _per_employee_counts(
    session: AsyncSession, stmt: Select[tuple[int | None, int]]
) -> dict[int, int]:
    rows = await session.execute(stmt)
    return {employee_id: count for employee_id, count in rows.tuples() if employee_id is not None}


async def _contacted(session: AsyncSession, start: datetime, end: datetime) -> dict[int, int]:
    """Assigned policyholders with a company-side contact in [start, end), per employee."""
    return await _per_employee_counts(
        session,
        select(Policyholder.employee_id, func.count(func.distinct(Contact.policyholder_id)))
        .join(Policyholder, Contact.policyholder_id == Policyholder.id)
        .where(
            Contact.created_at >= start,
            Contact.created_at < end,
            Contact.sender == ContactSender.EMPLOYEE,
        )
        .group_by(Policyholder.employee_id),
    )


def _figures_from_requests(
    figures: Figures, requests: Iterable[Request], week: Week, now: datetime
) -> None:
    acknowledge: list[timedelta] = []
    resolve: list[timedelta] = []
    kinds: Counter[str] = Counter()
    for request in requests:
        created = as_utc(request.created_at)
        acknowledged = as_utc(request.acknowledged_at)
        resolved = as_utc(request.resolved_at)
        due = as_utc(request.due_at)
        assert created is not None
        if _in(created, week.start, week.end):
            kinds[request.kind] += 1
            figures.still_open += int(request.status in _OPEN)
        if acknowledged is not None and _in(acknowledged, week.start, week.end):
            acknowledge.append(acknowledged - created)
        if resolved is not None and _in(resolved, week.start, week.end):
            resolve.append(resolved - created)
            if request.rating is not None:
                figures.ratings.append(request.rating)
        if due is not None and _in(due, week.start, week.end):
            late = acknowledged > due if acknowledged else request.status in _OPEN and due < now
            figures.sla_breaches += int(late)
    figures.requests_by_kind = {kind: kinds[kind] for kind in REQUEST_KINDS if kinds[kind]}
    figures.median_acknowledge = _median(acknowledge)
    figures.median_resolve = _median(resolve)


def _top(requests: Iterable[Request], kind: str, week: Week) -> list[tuple[str, int]]:
    counter: Counter[str] = Counter()
    for request in requests:
        if request.kind != kind or not _in(as_utc(request.created_at), week.start, week.end):
            continue
        details = request.details if isinstance(request.details, dict) else {}
        label = str(details.get("category") or "").strip()
        if not label:
            label = request.summary.strip() if kind == "suggestion" else "기타"
        counter[label or "기타"] += 1
    return counter.most_common(TOP_N)


async def weekly_report(
    session: AsyncSession,
    *,
    week: Week,
    department_id: int | None = None,
    now: datetime | None = None,
) -> WeeklyReport:
    """Compute the report for ``week``, for all departments or just one."""
    now = now or clock.now()
    dept_stmt = select(Department).order_by(Department.name)
    if department_id is not None:
        dept_stmt = dept_stmt.where(Department.id == department_id)
    departments = list((await session.scalars(dept_stmt)).all())
    dept_ids = [d.id for d in departments]
    employees = list(
        (
            await session.scalars(
                select(Employee)
                .where(Employee.department_id.in_(dept_ids))
                .order_by(Employee.is_head.desc(), Employee.name)
            )
        ).all()
    )
    assigned = await _per_employee_counts(
        session,
        select(Policyholder.employee_id, func.count()).group_by(Policyholder.employee_id),
    )
    human = (
        select(
            Policyholder.employee_id,
            func.count(Contact.id),
            func.count(func.distinct(Contact.policyholder_id)),
        )
        .join(Policyholder, Contact.policyholder_id == Policyholder.id)
        .where(
            Contact.created_at >= week.start,
            Contact.created_at < week.end,
            Contact.sender != ContactSender.BOT,
            Contact.edit_of_id.is_(None),
        )
        .group_by(Policyholder.employee_id)
    )
    contacts: dict[int, tuple[int, int]] = {
        emp: (count, reached)
        for emp, count, reached in (await session.execute(human)).tuples()
        if emp is not None
    }
    responsible: ColumnElement[int | None] = func.coalesce(
        OutboxMessage.employee_id, Policyholder.employee_id
    )
    undelivered = await _per_employee_counts(
        session,
        select(responsible, func.count(OutboxMessage.id))
        .select_from(OutboxMessage)
        .outerjoin(Policyholder, OutboxMessage.policyholder_id == Policyholder.id)
        .where(
            OutboxMessage.status == "failed",
            OutboxMessage.created_at >= week.start,
            OutboxMessage.created_at < week.end,
        )
        .group_by(responsible),
    )
    contacted_week = await _contacted(session, week.start, week.end)
    contacted_month = await _contacted(session, week.month_start, week.end)
    requests = list(
        (
            await session.scalars(
                select(Request).where(
                    or_(
                        Request.created_at.between(week.start, week.end),
                        Request.acknowledged_at.between(week.start, week.end),
                        Request.resolved_at.between(week.start, week.end),
                        Request.due_at.between(week.start, week.end),
                    )
                )
            )
        ).all()
    )
    by_employee: dict[int | None, list[Request]] = {}
    for request in requests:
        by_employee.setdefault(request.employee_id, []).append(request)

    reports = []
    for department in departments:
        staff = [e for e in employees if e.department_id == department.id]
        staff_reports = []
        dept_requests: list[Request] = []
        for employee in staff:
            figures = Figures(
                assigned=assigned.get(employee.id, 0),
                contacts=contacts.get(employee.id, (0, 0))[0],
                reached=contacts.get(employee.id, (0, 0))[1],
                contacted_week=contacted_week.get(employee.id, 0),
                contacted_month=contacted_month.get(employee.id, 0),
                undelivered=undelivered.get(employee.id, 0),
            )
            own = by_employee.get(employee.id, [])
            dept_requests += own
            _figures_from_requests(figures, own, week, now)
            staff_reports.append(
                EmployeeReport(employee.id, employee.name, employee.title, figures)
            )
        total = Figures(
            assigned=sum(r.figures.assigned for r in staff_reports),
            contacts=sum(r.figures.contacts for r in staff_reports),
            reached=sum(r.figures.reached for r in staff_reports),
            contacted_week=sum(r.figures.contacted_week for r in staff_reports),
            contacted_month=sum(r.figures.contacted_month for r in staff_reports),
            undelivered=sum(r.figures.undelivered for r in staff_reports),
        )
        _figures_from_requests(total, dept_requests, week, now)
        reports.append(
            DepartmentReport(
                department_id=department.id,
                name=department.name,
                figures=total,
                employees=staff_reports,
                top_complaints=_top(dept_requests, "complaint", week),
                top_wishes=_top(dept_requests, "suggestion", week),
            )
        )
    return WeeklyReport(week=week, generated_at=now, departments=reports)


# --- presentation shared by the terminal, the CSV and the web page ---------------------------


def format_duration(value: timedelta | None) -> str:
    """'3시간 20분', '2일 4시간', or '-'."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}일 {hours}시간"
    if hours:
        return f"{hours}시간 {mins}분"
    return f"{mins}분"


def format_share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def format_rating(figures: Figures) -> str:
    average = figures.rating_average
    return "-" if average is None else f"{average:.1f} ({len(figures.ratings)}건)"


def _top_text(items: list[tuple[str, int]], *, empty: str = "-") -> str:
    return "; ".join(f"{label}({count})" for label, count in items) or empty


CSV_HEADER = [
    "구분",
    "부서",
    "직원",
    "담당 계약자",
    "접촉 건수",
    "접촉 계약자",
    "이번 주 접촉률",
    "이번 달 접촉률",
    *[f"요청:{KIND_LABELS[k]}" for k in REQUEST_KINDS],
    "접수 소요 중앙값(분)",
    "처리 소요 중앙값(분)",
    "SLA 위반",
    "평점 수",
    "평균 평점",
    "전달 실패 메시지",
    "주요 불만 유형",
    "주요 서비스 희망",
]


def _minutes(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 60:.0f}"


def _csv_row(level: str, dept: str, person: str, f: Figures) -> list[str]:
    share_w = "" if f.share_week is None else f"{f.share_week:.3f}"
    share_m = "" if f.share_month is None else f"{f.share_month:.3f}"
    avg = "" if f.rating_average is None else f"{f.rating_average:.2f}"
    return [
        level,
        dept,
        person,
        str(f.assigned),
        str(f.contacts),
        str(f.reached),
        share_w,
        share_m,
        *[str(f.requests_by_kind.get(k, 0)) for k in REQUEST_KINDS],
        _minutes(f.median_acknowledge),
        _minutes(f.median_resolve),
        str(f.sla_breaches),
        str(len(f.ratings)),
        avg,
        str(f.undelivered),
    ]


def report_csv_rows(report: WeeklyReport) -> list[list[str]]:
    """The report as CSV rows (header first): one per department, one per employee."""
    rows = [CSV_HEADER]
    for dept in report.departments:
        rows.append(
            [
                *_csv_row("부서", dept.name, "", dept.figures),
                _top_text(dept.top_complaints, empty=""),
                _top_text(dept.top_wishes, empty=""),
            ]
        )
        for emp in dept.employees:
            person = f"{emp.name} {emp.title}"
            rows.append([*_csv_row("직원", dept.name, person, emp.figures), "", ""])
    return rows


def report_csv(report: WeeklyReport) -> str:
    """The report as CSV text; a cell a spreadsheet would run as a formula (a service wish
    typed as ``=HYPERLINK(…)``) is neutralised, as in the console's download."""
    return "".join(csv_line(row) for row in report_csv_rows(report))


def format_report_text(report: WeeklyReport) -> str:
    """The report as plain text for the terminal."""
    week = report.week
    lines = [
        f"주간 부서 실적 {week.label} ({week.monday:%Y-%m-%d} ~ {week.sunday:%Y-%m-%d})",
        "",
    ]
    for dept in report.departments:
        f = dept.figures
        lines += [
            f"■ {dept.name}",
            f"  접촉 {f.contacts}건 · 접촉 계약자 {f.reached}명 · 담당 {f.assigned}명",
            f"  접촉률 이번 주 {format_share(f.share_week)}"
            f" · 이번 달 {format_share(f.share_month)}",
            "  요청 "
            + (", ".join(f"{KIND_LABELS[k]} {n}" for k, n in f.requests_by_kind.items()) or "없음"),
            f"  접수까지 중앙값 {format_duration(f.median_acknowledge)}"
            f" · 처리까지 중앙값 {format_duration(f.median_resolve)}"
            f" · SLA 위반 {f.sla_breaches}건 · 평점 {format_rating(f)}",
            f"  전달 실패 메시지 {f.undelivered}건",
            f"  주요 불만: {_top_text(dept.top_complaints)}",
            f"  서비스 희망: {_top_text(dept.top_wishes)}",
            "  직원별:",
        ]
        for emp in dept.employees:
            e = emp.figures
            lines.append(
                f"    {emp.name} {emp.title}: 접촉 {e.contacts} · 계약자 {e.reached}/{e.assigned}"
                f" · 주 {format_share(e.share_week)} · 월 {format_share(e.share_month)}"
                f" · 요청 {e.requests} · SLA 위반 {e.sla_breaches} · 평점 {format_rating(e)}"
            )
        lines.append("")
    if not report.departments:
        lines.append("부서가 없습니다.")
    return "\n".join(lines)
