"""계약유지율 (persistency): 13회차 and 25회차, by count and by APE, for the company, each
department and each employee's policyholders.

Definitions (the same for every surface: console page, weekly digest, ``milchak report
persistency``, CSV):

* **Cohort.** The policies contracted in one calendar month (``policies.contract_date``).
* **Observation point of 회차 N.** Installment N covers month N of the contract; for a monthly
  policy contracted in month c it falls due in month c + N − 1 and may be paid until the end of
  month c + N (the grace period, see :mod:`bot.services.policy_history`). So cohort c is
  observed at 회차 N on the last day of month c + N, whatever the payment cycle.
* **Retained at 회차 N.** On the observation day the policy's last event (on or before that day)
  leaves it in force with month N paid for: 정상, 부활, 완납 or 만기, or 미납 with the installments
  paid covering month N. 실효 and 해지 are exits. A lapse that was reinstated (부활) before the
  observation day counts as retained; one reinstated later does not, so a published figure
  never changes afterwards. A policy with no event by then is in force since its contract (the
  contract itself is a 정상 event).
* **Trailing 12 months.** The figure "as of" a day D uses the 12 cohorts whose observation
  month is one of the 12 complete months before D's month: for 13회차 as of 2026-11-27, the
  observation months are 2025-11 … 2026-10, i.e. contracts of 2024-10 … 2025-09.
* **By count**: retained policies / cohort policies. **By APE** (연납화보험료, the supervisor's
  weighting since 2023): retained APE / cohort APE.
* **Who.** A policy belongs to the employee who looks after its policyholder today, and to that
  employee's department; policies of unassigned policyholders count for the company only.
* **Small groups.** Each figure carries its counts and a 95 % Wilson interval of the count-based
  rate (scipy), so that "3 of 4" is never read as a bare 75 %.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, and_, case, cast, func, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Department,
    Employee,
    Policy,
    PolicyEvent,
    PolicyEventKind,
    Policyholder,
)
from bot.services.policy_history import (
    CYCLE_MONTHS,
    add_months,
    month_end,
    month_index,
    month_start,
)

MEASURES = (13, 25)
WINDOW_MONTHS = 12
CONFIDENCE = 0.95
_RETAINED_KINDS = (
    PolicyEventKind.NORMAL,
    PolicyEventKind.REINSTATED,
    PolicyEventKind.PAID_UP,
    PolicyEventKind.MATURED,
)


@dataclass
class Rate:
    """One 회차's figure for one group: counts, APE sums and the rates they give."""

    policies: int = 0
    retained: int = 0
    ape: float = 0.0
    retained_ape: float = 0.0

    def add(self, other: Rate) -> None:
        self.policies += other.policies
        self.retained += other.retained
        self.ape += other.ape
        self.retained_ape += other.retained_ape

    @property
    def by_count(self) -> float | None:
        return self.retained / self.policies if self.policies else None

    @property
    def by_ape(self) -> float | None:
        return self.retained_ape / self.ape if self.ape else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """95 % Wilson interval of the count-based rate (None for an empty group)."""
        if not self.policies:
            return None
        from scipy.stats import binomtest  # scipy comes with lifelines; loaded on first use

        ci = binomtest(self.retained, self.policies).proportion_ci(
            confidence_level=CONFIDENCE, method="wilson"
        )
        return float(ci.low), float(ci.high)


@dataclass
class UnitFigures:
    """13회차 and 25회차 of one group (the company, a department, an employee)."""

    label: str
    unit_id: int | None = None
    rates: dict[int, Rate] = field(default_factory=lambda: {n: Rate() for n in MEASURES})

    def add(self, other: UnitFigures) -> None:
        for n in MEASURES:
            self.rates[n].add(other.rates[n])


@dataclass
class DepartmentFigures:
    figures: UnitFigures
    employees: list[UnitFigures]


@dataclass(frozen=True)
class Window:
    """Which cohorts a figure as of ``as_of`` uses, per 회차."""

    as_of: date
    cohort_month: date | None = None  # one contract month instead of the trailing 12

    def cohorts(self, n: int) -> list[int]:
        """Month indexes of the contract months measured at 회차 ``n`` (observed before as_of)."""
        last_complete = month_index(self.as_of) - 1
        if self.cohort_month is not None:
            c = month_index(self.cohort_month)
            return [c] if c + n <= last_complete else []
        return list(range(last_complete - n - WINDOW_MONTHS + 1, last_complete - n + 1))

    def observed(self, cohort: int, n: int) -> date:
        """Observation day of cohort ``cohort`` at 회차 ``n``: the end of its grace period."""
        return month_end(month_start(cohort + n))

    def contract_span(self, n: int) -> tuple[date, date] | None:
        months = self.cohorts(n)
        if not months:
            return None
        return month_start(months[0]), month_end(month_start(months[-1]))

    def previous_month(self) -> Window:
        return Window(add_months(self.as_of, -1), self.cohort_month)


@dataclass
class PersistencyReport:
    window: Window
    product: str | None
    company: UnitFigures
    departments: list[DepartmentFigures]
    # Company figure per contract month (month index → 회차 → Rate), for the trend table.
    by_cohort: dict[int, dict[int, Rate]]
    department_id: int | None = None  # set when the report covers one department only


def _cycle_months() -> Any:
    return case(
        *((Policy.payment_cycle == cycle, months) for cycle, months in CYCLE_MONTHS.items()),
        else_=1,
    )


def _ape() -> Any:
    """APE in SQL, as :func:`bot.services.policy_history.annualized_premium` computes it."""
    return case(
        (Policy.payment_cycle == "single", Policy.premium / 10.0),
        else_=Policy.premium * 12.0 / _cycle_months(),
    )


def _cohorts(window: Window, n: int, *, typed: bool) -> Any:
    """The cohorts measured at 회차 ``n`` as a small derived table: bounds and observation day.

    One query per 회차 over all twelve cohorts (not one per cohort): PostgreSQL plans and
    JIT-compiles once. PostgreSQL needs the literals typed (``typed``); SQLite must not have
    them cast, since its CAST(... AS DATE) turns '2025-03-01' into the number 2025.
    """

    def value(v: Any, kind: Any) -> Any:
        bound = literal(v, kind)
        return cast(bound, kind) if typed else bound

    rows = [
        select(
            value(month_start(c), Date).label("first_day"),
            value(month_end(month_start(c)), Date).label("last_day"),
            value(window.observed(c, n), Date).label("observed"),
            value(c, Integer).label("cohort"),
        )
        for c in window.cohorts(n)
    ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("cohorts")


async def _measure_rows(
    session: AsyncSession,
    *,
    n: int,
    window: Window,
    product: str | None,
    employee_ids: Iterable[int] | None,
    by_employee: bool,
) -> list[tuple[int, int | None, Rate]]:
    """(cohort month, employee or None, counts and APE) at 회차 ``n`` for every cohort."""
    if not window.cohorts(n):
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # The planner over-estimates these rows a hundredfold and JIT-compiles the query, which
        # costs more than running it; for this transaction only.
        await session.execute(text("SET LOCAL jit = off"))
    cohorts = _cohorts(window, n, typed=postgres)
    # The retained flag straight from the last event on or before the observation day: one
    # index lookup per policy; no event at all means in force since the contract (1).
    last_flag = (
        select(
            case(
                (PolicyEvent.kind.in_([str(k) for k in _RETAINED_KINDS]), 1),
                (
                    and_(
                        PolicyEvent.kind == PolicyEventKind.UNPAID,
                        func.coalesce(PolicyEvent.paid_through, 0) * _cycle_months() >= n,
                    ),
                    1,
                ),
                else_=0,
            )
        )
        .where(PolicyEvent.policy_id == Policy.id, PolicyEvent.occurred_on <= cohorts.c.observed)
        .order_by(PolicyEvent.occurred_on.desc(), PolicyEvent.id.desc())
        .limit(1)
        .correlate(Policy, cohorts)
        .scalar_subquery()
    )
    kept = func.coalesce(last_flag, 1)
    owner = Policyholder.employee_id if by_employee else literal(None)
    # Grouping by the flag (not summing it twice) evaluates the lookup once per policy.
    stmt = (
        select(cohorts.c.cohort, owner, kept, func.count(), func.sum(_ape()))
        .select_from(cohorts)
        .join(
            Policy,
            and_(
                Policy.contract_date >= cohorts.c.first_day,
                Policy.contract_date <= cohorts.c.last_day,
            ),
        )
    )
    if by_employee or employee_ids is not None:
        stmt = stmt.join(Policyholder, Policyholder.id == Policy.policyholder_id)
    if employee_ids is not None:
        stmt = stmt.where(Policyholder.employee_id.in_(list(employee_ids)))
    if product:
        stmt = stmt.where(Policy.product == product)
    stmt = stmt.group_by(
        cohorts.c.cohort, *([Policyholder.employee_id] if by_employee else []), kept
    )
    totals: dict[tuple[int, int | None], Rate] = {}
    for cohort, emp, flag, count, ape in (await session.execute(stmt)).tuples():
        rate = totals.setdefault((int(cohort), emp), Rate())
        rate.policies += int(count)
        rate.ape += float(ape or 0)
        if int(flag):
            rate.retained += int(count)
            rate.retained_ape += float(ape or 0)
    return [(cohort, emp, rate) for (cohort, emp), rate in totals.items() if rate.policies]


async def company_rates(
    session: AsyncSession, *, window: Window, product: str | None = None
) -> dict[int, Rate]:
    """The company's 13회차 and 25회차 (no per-employee split: the fastest path)."""
    rates = {n: Rate() for n in MEASURES}
    for n in MEASURES:
        rows = await _measure_rows(
            session, n=n, window=window, product=product, employee_ids=None, by_employee=False
        )
        for _, _, rate in rows:
            rates[n].add(rate)
    return rates


async def persistency_report(
    session: AsyncSession,
    *,
    as_of: date,
    department_id: int | None = None,
    product: str | None = None,
    cohort_month: date | None = None,
) -> PersistencyReport:
    """Figures for the company (or, with ``department_id``, one department) and its people."""
    window = Window(as_of, cohort_month)
    dept_stmt = select(Department).order_by(Department.name)
    if department_id is not None:
        dept_stmt = dept_stmt.where(Department.id == department_id)
    departments = list((await session.scalars(dept_stmt)).all())
    employees = list(
        (
            await session.scalars(
                select(Employee)
                .where(Employee.department_id.in_([d.id for d in departments]))
                .order_by(Employee.is_head.desc(), Employee.name, Employee.id)
            )
        ).all()
    )
    scope = [e.id for e in employees] if department_id is not None else None
    per_employee: dict[int | None, UnitFigures] = {}
    by_cohort: dict[int, dict[int, Rate]] = {}
    for n in MEASURES:
        rows = await _measure_rows(
            session, n=n, window=window, product=product, employee_ids=scope, by_employee=True
        )
        for cohort, employee_id, rate in rows:
            unit = per_employee.setdefault(employee_id, UnitFigures(""))
            unit.rates[n].add(rate)
            by_cohort.setdefault(cohort, {m: Rate() for m in MEASURES})[n].add(rate)
    company = UnitFigures(
        "회사 전체" if department_id is None or not departments else departments[0].name
    )
    for unit in per_employee.values():
        company.add(unit)
    result = []
    for department in departments:
        total = UnitFigures(department.name, department.id)
        staff = []
        for employee in employees:
            if employee.department_id != department.id:
                continue
            figures = per_employee.get(employee.id) or UnitFigures("")
            figures.label, figures.unit_id = employee.display_name, employee.id
            total.add(figures)
            staff.append(figures)
        result.append(DepartmentFigures(total, staff))
    return PersistencyReport(window, product, company, result, by_cohort, department_id)


async def products(session: AsyncSession) -> list[str]:
    """Product names that have contract dates (the page's product filter)."""
    rows = await session.scalars(
        select(Policy.product).where(Policy.contract_date.is_not(None)).distinct()
    )
    return sorted(rows.all())


# --- presentation shared by the terminal, the CSV, the digest and the page -------------------


def format_rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def format_interval(rate: Rate) -> str:
    interval = rate.interval
    if interval is None:
        return "-"
    return f"{interval[0] * 100:.0f}–{interval[1] * 100:.0f}%"


def format_change(now: float | None, before: float | None) -> str:
    """'+1.2%p', '−0.4%p', or '-' when either side is missing."""
    if now is None or before is None:
        return "-"
    points = (now - before) * 100
    sign = "+" if points >= 0 else "−"
    return f"{sign}{abs(points):.1f}%p"


def rate_line(rate: Rate) -> str:
    """'84.2% (보험료) · 83.0% (건수 166/200, 95% 신뢰구간 77–88%)'."""
    if not rate.policies:
        return "대상 계약 없음"
    return (
        f"{format_rate(rate.by_ape)} (보험료) · {format_rate(rate.by_count)} "
        f"(건수 {rate.retained:,}/{rate.policies:,}, 95% 신뢰구간 {format_interval(rate)})"
    )


CSV_HEADER = [
    "구분",
    "부서",
    "직원",
    *[
        f"{n}회차 {label}"
        for n in MEASURES
        for label in (
            "대상 계약",
            "유지 계약",
            "유지율(건수)",
            "유지율(보험료)",
            "신뢰구간 하한",
            "신뢰구간 상한",
        )
    ],
]


def _csv_cells(unit: UnitFigures) -> list[str]:
    cells: list[str] = []
    for n in MEASURES:
        rate = unit.rates[n]
        interval = rate.interval
        cells += [
            str(rate.policies),
            str(rate.retained),
            "" if rate.by_count is None else f"{rate.by_count:.4f}",
            "" if rate.by_ape is None else f"{rate.by_ape:.4f}",
            "" if interval is None else f"{interval[0]:.4f}",
            "" if interval is None else f"{interval[1]:.4f}",
        ]
    return cells


def report_csv_rows(report: PersistencyReport) -> list[list[str]]:
    rows = [CSV_HEADER]
    if report.department_id is None:
        rows.append(["회사", report.company.label, "", *_csv_cells(report.company)])
    for dept in report.departments:
        rows.append(["부서", dept.figures.label, "", *_csv_cells(dept.figures)])
        for emp in dept.employees:
            rows.append(["직원", dept.figures.label, emp.label, *_csv_cells(emp)])
    return rows


def window_text(window: Window, n: int) -> str:
    """'계약월 2024-10 ~ 2025-09' for the cohorts measured at 회차 n."""
    span = window.contract_span(n)
    if span is None:
        return "아직 관측할 수 없는 계약월"
    start, end = span
    if (start.year, start.month) == (end.year, end.month):
        return f"계약월 {start:%Y-%m}"
    return f"계약월 {start:%Y-%m} ~ {end:%Y-%m}"
