"""Does reaching a policyholder keep their policies in force? Survival analysis with lifelines.

lifelines (MIT, the field's well-kept Python survival library) does the estimating: Kaplan–Meier
curves, the log-rank test and the Cox model with time-varying covariates. This module only turns
policies, their events and the contact ledger into the library's inputs, and reads the results.

* **Time** is the policy's age in months (days / 30.4375) since its contract date: lapses
  cluster in the first two years, so policy age is the clock that matters.
* **Exit** is the first 실효 (lapse) or 해지 (surrender). 완납 and 만기 end follow-up (censored);
  so does the end of the data (``as_of``).
* **Study window**: the last ``HISTORY_MONTHS`` months before ``as_of``. A policy enters when the
  window opens (or at its contract, if later) provided it is in force then: older years are
  left-truncated, not assumed.
* **Reached** means the holder had a contact *from the company's side* in the ledger (an employee's
  visit, call or message: ``sender = 'employee'``), from the moment of their first one.

Why two analyses, and not "ever contacted against never contacted": a policy that was reached in
month 20 had to survive to month 20 to be reached, so counting its whole life as "contacted"
credits the programme with survival it did not cause (immortal-time bias). Hence:

1. **Landmark Kaplan–Meier + log-rank** (the curves on the page): policies in force on the landmark
   day (``LANDMARK_MONTHS`` before ``as_of``) are split by whether their holder had been reached
   *before* that day, and followed *from* it. Membership is fixed at the start of follow-up.
2. **Cox model with contact as a time-varying covariate**: every policy's follow-up is cut at its
   holder's first contact; the time before counts as not reached, the time after as reached.
   The hazard ratio (with its 95 % interval) is the estimate of the effect.

Both are observational: employees choose whom to visit, so neither proves cause. The demo's
policy history is simulated with a lower lapse risk after contact (see
:mod:`bot.demo.policy_history`), so on demo data the effect is synthetic by design.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import SEOUL
from bot.db.models import (
    Contact,
    ContactSender,
    Employee,
    Policy,
    PolicyEvent,
    PolicyEventKind,
    Policyholder,
)
from bot.services.policy_history import EXIT_KINDS, add_months

HISTORY_MONTHS = 24
LANDMARK_MONTHS = 12
DAYS_PER_MONTH = 30.4375
_END_KINDS = frozenset({PolicyEventKind.PAID_UP, PolicyEventKind.MATURED})


@dataclass(frozen=True, slots=True)
class Subject:
    """One policy's follow-up on the policy-age clock (months)."""

    entry: float  # age when follow-up starts (0 for a contract inside the window)
    stop: float  # age at exit or censoring
    event: bool  # exited (실효/해지) at ``stop``
    reached_at: float | None  # age at the holder's first company-side contact, if any


@dataclass(frozen=True)
class Curve:
    """A Kaplan–Meier curve as steps: ``survival[i]`` holds from ``times[i]`` on."""

    label: str
    times: list[float]
    survival: list[float]
    lower: list[float]
    upper: list[float]
    subjects: int
    events: int


@dataclass(frozen=True)
class Landmark:
    day: date
    horizon_months: int
    reached: Curve
    not_reached: Curve
    logrank_statistic: float
    logrank_p: float


@dataclass(frozen=True)
class CoxResult:
    hazard_ratio: float
    lower: float
    upper: float
    p: float
    subjects: int
    events: int
    reached_subjects: int


@dataclass
class SurvivalReport:
    as_of: date
    window_start: date
    landmark: Landmark | None
    cox: CoxResult | None
    problems: list[str] = field(default_factory=list)  # Korean: why a part could not be computed


def _months(later: date, earlier: date) -> float:
    return (later - earlier).days / DAYS_PER_MONTH


# --- the library's inputs ----------------------------------------------------------------------


def episodes(subjects: Sequence[Subject]) -> Any:
    """Long-format rows for CoxTimeVaryingFitter: (id, start, stop, event, reached).

    A subject reached during follow-up gives two rows, split at the first contact: the exit, if
    any, belongs to the second. Reached before entry: one row, reached throughout.
    """
    import pandas as pd

    rows: list[tuple[int, float, float, int, int]] = []
    for index, s in enumerate(subjects):
        if s.stop <= s.entry:
            continue
        if s.reached_at is None or s.reached_at >= s.stop:
            rows.append((index, s.entry, s.stop, int(s.event), 0))
        elif s.reached_at <= s.entry:
            rows.append((index, s.entry, s.stop, int(s.event), 1))
        else:
            rows.append((index, s.entry, s.reached_at, 0, 0))
            rows.append((index, s.reached_at, s.stop, int(s.event), 1))
    return pd.DataFrame(rows, columns=["id", "start", "stop", "event", "reached"])


def fit_cox(subjects: Sequence[Subject]) -> CoxResult:
    """Hazard ratio of exit while reached against not (yet) reached, contact time-varying."""
    from lifelines import CoxTimeVaryingFitter

    data = episodes(subjects)
    fitter = CoxTimeVaryingFitter()
    fitter.fit(data, id_col="id", event_col="event", start_col="start", stop_col="stop")
    row = fitter.summary.loc["reached"]
    return CoxResult(
        hazard_ratio=float(row["exp(coef)"]),
        lower=float(row["exp(coef) lower 95%"]),
        upper=float(row["exp(coef) upper 95%"]),
        p=float(row["p"]),
        subjects=int(data["id"].nunique()),
        events=int(data["event"].sum()),
        reached_subjects=int(data.loc[data["reached"] == 1, "id"].nunique()),
    )


def _curve(label: str, durations: list[float], events: list[bool]) -> Curve:
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter()
    fitter.fit(durations, event_observed=events, label=label)
    survival = fitter.survival_function_[label]
    bounds = fitter.confidence_interval_survival_function_
    return Curve(
        label=label,
        times=[float(t) for t in survival.index],
        survival=[float(v) for v in survival.to_numpy()],
        lower=[float(v) for v in bounds.iloc[:, 0].to_numpy()],
        upper=[float(v) for v in bounds.iloc[:, 1].to_numpy()],
        subjects=len(durations),
        events=sum(events),
    )


REACHED_LABEL = "기준일 전에 연락한 계약"
NOT_REACHED_LABEL = "연락하지 않은 계약"


def fit_landmark(
    reached: Sequence[tuple[float, bool]],
    not_reached: Sequence[tuple[float, bool]],
    *,
    day: date,
    horizon_months: int = LANDMARK_MONTHS,
) -> Landmark:
    """Kaplan–Meier curves of both groups from the landmark day, and their log-rank test.

    Each item is (months followed after the landmark, exited).
    """
    from lifelines.statistics import logrank_test

    a_t, a_e = [t for t, _ in reached], [e for _, e in reached]
    b_t, b_e = [t for t, _ in not_reached], [e for _, e in not_reached]
    test = logrank_test(a_t, b_t, event_observed_A=a_e, event_observed_B=b_e)
    return Landmark(
        day=day,
        horizon_months=horizon_months,
        reached=_curve(REACHED_LABEL, a_t, a_e),
        not_reached=_curve(NOT_REACHED_LABEL, b_t, b_e),
        logrank_statistic=float(test.test_statistic),
        logrank_p=float(test.p_value),
    )


# --- from the database ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyLife:
    """What the analyses need of one policy, in calendar days."""

    contract: date
    events: tuple[tuple[str, date], ...]  # (kind, day) in recorded order
    reached_on: date | None  # the holder's first company-side contact


def _in_force_on(life: PolicyLife, day: date) -> bool:
    if life.contract > day:
        return False
    last = None
    for kind, when in life.events:
        if when <= day:
            last = kind
    return last is None or (last not in EXIT_KINDS and last not in _END_KINDS)


def _follow(life: PolicyLife, start: date, end: date) -> tuple[date, bool]:
    """From ``start`` (in force): the day follow-up ends before or on ``end``, and if by exit."""
    for kind, when in life.events:
        if start < when <= end:
            if kind in EXIT_KINDS:
                return when, True
            if kind in _END_KINDS:
                return when, False
    return end, False


def subjects_from(lives: Iterable[PolicyLife], *, as_of: date) -> list[Subject]:
    """Follow-up of each policy in force at some point of the study window."""
    window_start = add_months(as_of, -HISTORY_MONTHS)
    subjects = []
    for life in lives:
        start = max(life.contract, window_start)
        if start >= as_of or not _in_force_on(life, start):
            continue
        end, exited = _follow(life, start, as_of)
        reached = None if life.reached_on is None else _months(life.reached_on, life.contract)
        subjects.append(
            Subject(
                entry=_months(start, life.contract),
                stop=_months(end, life.contract),
                event=exited,
                reached_at=max(reached, 0.0) if reached is not None else None,
            )
        )
    return subjects


def landmark_groups(
    lives: Iterable[PolicyLife], *, day: date, as_of: date
) -> tuple[list[tuple[float, bool]], list[tuple[float, bool]]]:
    """(reached before ``day``, not reached): months followed from ``day`` and exit flags."""
    reached: list[tuple[float, bool]] = []
    not_reached: list[tuple[float, bool]] = []
    for life in lives:
        if not _in_force_on(life, day):
            continue
        end, exited = _follow(life, day, as_of)
        item = (_months(end, day), exited)
        if life.reached_on is not None and life.reached_on < day:
            reached.append(item)
        else:
            not_reached.append(item)
    return reached, not_reached


async def load_lives(
    session: AsyncSession,
    *,
    as_of: date,
    department_id: int | None = None,
    product: str | None = None,
) -> list[PolicyLife]:
    """Policies contracted by ``as_of`` with their events and their holder's first contact."""
    stmt = (
        select(Policy.id, Policy.contract_date, Policy.policyholder_id)
        .where(Policy.contract_date.is_not(None), Policy.contract_date <= as_of)
        .order_by(Policy.id)
    )
    if department_id is not None:
        stmt = (
            stmt.join(Policyholder, Policyholder.id == Policy.policyholder_id)
            .join(Employee, Employee.id == Policyholder.employee_id)
            .where(Employee.department_id == department_id)
        )
    if product:
        stmt = stmt.where(Policy.product == product)
    policies = (await session.execute(stmt)).tuples().all()
    ids = {pid for pid, _, _ in policies}
    events: dict[int, list[tuple[str, date]]] = {}
    rows = await session.execute(
        select(PolicyEvent.policy_id, PolicyEvent.kind, PolicyEvent.occurred_on)
        .where(PolicyEvent.occurred_on <= as_of)
        .order_by(PolicyEvent.policy_id, PolicyEvent.occurred_on, PolicyEvent.id)
    )
    for policy_id, kind, when in rows.tuples():
        if policy_id in ids:
            events.setdefault(policy_id, []).append((kind, when))
    first_contact: dict[int, date] = {}
    contacts = await session.execute(
        select(Contact.policyholder_id, func.min(Contact.created_at))
        .where(Contact.sender == ContactSender.EMPLOYEE, Contact.policyholder_id.is_not(None))
        .group_by(Contact.policyholder_id)
    )
    for holder_id, moment in contacts.tuples():
        if isinstance(moment, datetime) and holder_id is not None:
            first_contact[holder_id] = _seoul_day(moment)
    return [
        PolicyLife(contract, tuple(events.get(pid, ())), first_contact.get(holder_id))
        for pid, contract, holder_id in policies
        if contract is not None
    ]


def _seoul_day(moment: datetime) -> date:
    from bot.clock import as_utc

    return as_utc(moment).astimezone(SEOUL).date()


def analyse(lives: Sequence[PolicyLife], *, as_of: date) -> SurvivalReport:
    """Both analyses on the same policies; a part that cannot be fitted says why, in Korean."""
    report = SurvivalReport(
        as_of=as_of, window_start=add_months(as_of, -HISTORY_MONTHS), landmark=None, cox=None
    )
    day = add_months(as_of, -LANDMARK_MONTHS)
    reached, not_reached = landmark_groups(lives, day=day, as_of=as_of)
    if reached and not_reached:
        report.landmark = fit_landmark(reached, not_reached, day=day)
    else:
        report.problems.append(
            "기준일에 유지 중인 계약 가운데 한쪽 집단이 비어 생존곡선을 그리지 않았습니다."
        )
    subjects = subjects_from(lives, as_of=as_of)
    has_events = any(s.event for s in subjects)
    has_both = any(s.reached_at is not None and s.reached_at < s.stop for s in subjects) and any(
        s.reached_at is None or s.reached_at > s.entry for s in subjects
    )
    if has_events and has_both:
        try:
            report.cox = fit_cox(subjects)
        except Exception as error:  # lifelines raises ConvergenceError and friends
            report.problems.append(f"Cox 모형을 적합하지 못했습니다: {type(error).__name__}")
    else:
        report.problems.append(
            "해지·실효가 없거나 연락 여부가 한쪽뿐이라 Cox 모형을 적합하지 않았습니다."
        )
    return report


async def survival_report(
    session: AsyncSession,
    *,
    as_of: date,
    department_id: int | None = None,
    product: str | None = None,
) -> SurvivalReport:
    lives = await load_lives(session, as_of=as_of, department_id=department_id, product=product)
    return analyse(lives, as_of=as_of)
