"""The weekly digest: last week's department report, sent to each head on Telegram.

Figures come from :func:`bot.services.reports.weekly_report`, the same numbers the console and
``milchak report weekly`` show. Each digest goes through the outbox with the dedupe key
``weekly_digest:<department id>:<ISO week>``, so running the job twice, on two processes, or
from the CLI while the app runs, queues it once; the outbox worker retries delivery.

The job sends last week's digest from the scheduled time on Monday (Seoul) and, when the app was
down then, catches up whenever it runs later that week. A week whose digest was never queued by
the end of the following week is not sent automatically (``milchak report send-weekly --week``
can still send it).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.clock import SEOUL
from bot.config import Settings
from bot.db.engine import session_scope
from bot.db.models import Department, Employee, OutboxPurpose
from bot.services.chain import department_head
from bot.services.labels import KIND_LABELS
from bot.services.outbox import enqueue_once, queued_with_key
from bot.services.periodic import run_every
from bot.services.persistency import persistency_report
from bot.services.persistency_text import digest_lines
from bot.services.policy_history import add_months
from bot.services.reports import (
    DepartmentReport,
    Week,
    format_share,
    weekly_report,
)

log = logging.getLogger(__name__)

PURPOSE = OutboxPurpose.WEEKLY_DIGEST
TOP_EMPLOYEES = 3

# --- Korean text the head sees (합니다체, like the other employee messages) -----------------
TITLE = "📊 {department} 주간 실적 · {week} ({span})"
GREETING = "{head}님, {span} 부서 밀착관리 실적을 알려 드립니다."
CONTACTS_HEADER = "■ 계약자 접촉"
CONTACTS = "· 접촉 {contacts}건 · 접촉한 계약자 {reached}명"
SHARE = "· 담당 계약자 접촉률: 주간 {week} · {month}월 누적 {month_share}"
SHARE_PART = "{share} ({contacted}/{assigned}명)"
NO_ASSIGNED = "· 담당 계약자가 배정되어 있지 않습니다."
REQUESTS_HEADER = "■ 요청 {count}건"
NO_REQUESTS_HEADER = "■ 요청 없음"
KIND_PART = "{label} {count}건"
REQUEST_STATE = "· 아직 처리 중 {open}건 · 접수 기한 초과 {late}건"
LATE_ONLY = "· 접수 기한 초과 {late}건"
TOP_HEADER = "■ 접촉이 많은 직원"
TOP_LINE = "{rank}. {name} {contacts}건"
NO_TOP = "· 이 주에는 접촉 기록이 없습니다."


class Status(enum.StrEnum):
    QUEUED = "queued"  # put in the outbox now
    ALREADY = "already"  # queued before (by this job, another process or the CLI)
    NO_HEAD = "no_head"  # the department has no head
    NOT_LINKED = "not_linked"  # the head has not linked Telegram
    BLOCKED = "blocked"  # the head blocked the bot


@dataclass(frozen=True)
class DigestOutcome:
    """What happened to one department's digest for one week."""

    department_id: int
    department: str
    week: Week
    status: Status
    head: str | None = None  # display name
    head_id: int | None = None
    outbox_status: str | None = None  # of the row queued now or before


@dataclass(frozen=True)
class Schedule:
    """When last week's digest becomes due: ``weekday`` (0 = Monday) at ``hour``, Seoul."""

    weekday: int = 0
    hour: int = 8

    @classmethod
    def from_settings(cls, settings: Settings) -> Schedule:
        return cls(weekday=settings.weekly_digest_weekday, hour=settings.weekly_digest_hour)

    def due_week(self, now: datetime) -> Week | None:
        """The week whose digest is due at ``now``: last week once this week's time has come."""
        current = Week.containing(now)
        due_from = datetime.combine(
            current.monday + timedelta(days=self.weekday), time(self.hour), tzinfo=SEOUL
        )
        return current.previous() if now >= due_from else None


def digest_key(department_id: int, week: Week) -> str:
    return f"{PURPOSE}:{department_id}:{week.label}"


def _n(value: int) -> str:
    return f"{value:,}"


def _span(week: Week) -> str:
    """'11월 23일~29일', or '11월 30일~12월 6일' across a month end."""
    monday, sunday = week.monday, week.sunday
    end = f"{sunday.day}일" if sunday.month == monday.month else f"{sunday.month}월 {sunday.day}일"
    return f"{monday.month}월 {monday.day}일~{end}"


def compose_digest(
    report: DepartmentReport,
    *,
    week: Week,
    head: Employee,
    persistency: list[str] | None = None,
) -> str:
    """The Korean Telegram message for ``head`` about ``report`` (one department, one week);
    ``persistency`` is the department's 13/25회차 block (:func:`digest_lines`)."""
    f = report.figures
    span = _span(week)
    lines = [
        TITLE.format(department=report.name, week=week.label, span=span),
        "",
        GREETING.format(head=head.display_name, span=span),
        "",
        CONTACTS_HEADER,
        CONTACTS.format(contacts=_n(f.contacts), reached=_n(f.reached)),
    ]
    if f.assigned:
        lines.append(
            SHARE.format(
                week=SHARE_PART.format(
                    share=format_share(f.share_week),
                    contacted=_n(f.contacted_week),
                    assigned=_n(f.assigned),
                ),
                month=week.sunday.month,
                month_share=SHARE_PART.format(
                    share=format_share(f.share_month),
                    contacted=_n(f.contacted_month),
                    assigned=_n(f.assigned),
                ),
            )
        )
    else:
        lines.append(NO_ASSIGNED)
    lines.append("")
    if f.requests:
        lines += [
            REQUESTS_HEADER.format(count=_n(f.requests)),
            "· "
            + " · ".join(
                KIND_PART.format(label=KIND_LABELS.get(kind, kind), count=_n(count))
                for kind, count in f.requests_by_kind.items()
            ),
            REQUEST_STATE.format(open=_n(f.still_open), late=_n(f.sla_breaches)),
        ]
    else:
        lines.append(NO_REQUESTS_HEADER)
        if f.sla_breaches:
            lines.append(LATE_ONLY.format(late=_n(f.sla_breaches)))
    if persistency:
        lines += ["", *persistency]
    lines += ["", TOP_HEADER]
    # A stable sort keeps the report's order (head first, then by name) among equal counts.
    active = sorted(
        (e for e in report.employees if e.figures.contacts), key=lambda e: -e.figures.contacts
    )
    lines += [
        TOP_LINE.format(rank=rank, name=f"{e.name} {e.title}", contacts=_n(e.figures.contacts))
        for rank, e in enumerate(active[:TOP_EMPLOYEES], start=1)
    ] or [NO_TOP]
    return "\n".join(lines)


async def queue_weekly_digests(
    session: AsyncSession,
    *,
    week: Week,
    department_id: int | None = None,
    now: datetime | None = None,
) -> list[DigestOutcome]:
    """Queue ``week``'s digest for every department (or one) that has not had it yet.

    Runs in the caller's transaction; commit afterwards. The report is computed only when some
    department still needs its digest, so the job can poll cheaply all week.
    """
    now = now or clock.now()
    stmt = select(Department).order_by(Department.name)
    if department_id is not None:
        stmt = stmt.where(Department.id == department_id)
    outcomes: dict[int, DigestOutcome] = {}
    heads: dict[int, Employee] = {}
    for department in (await session.scalars(stmt)).all():
        head = await department_head(session, department.id)
        outcome = DigestOutcome(
            department.id,
            department.name,
            week,
            Status.QUEUED,
            head=head.display_name if head else None,
            head_id=head.id if head else None,
        )
        existing = await queued_with_key(session, digest_key(department.id, week))
        if existing is not None:
            outcome = replace(outcome, status=Status.ALREADY, outbox_status=existing.status)
        elif head is None:
            outcome = replace(outcome, status=Status.NO_HEAD)
        elif head.telegram_chat_id is None:
            outcome = replace(outcome, status=Status.NOT_LINKED)
        elif head.telegram_blocked:
            outcome = replace(outcome, status=Status.BLOCKED)
        else:
            heads[department.id] = head
        outcomes[department.id] = outcome
    if heads:
        report = await weekly_report(session, week=week, department_id=department_id, now=now)
        persistency = await _persistency_by_department(
            session, week=week, department_id=department_id
        )
        for dept in report.departments:
            head = heads.get(dept.department_id)
            if head is None:
                continue
            assert head.telegram_chat_id is not None
            message = await enqueue_once(
                session,
                dedupe_key=digest_key(dept.department_id, week),
                chat_id=head.telegram_chat_id,
                text=compose_digest(
                    dept, week=week, head=head, persistency=persistency.get(dept.department_id)
                ),
                employee_id=head.id,
                purpose=PURPOSE,
            )
            outcome = outcomes[dept.department_id]
            if message is None:  # another process queued it since we looked
                outcomes[dept.department_id] = replace(outcome, status=Status.ALREADY)
            else:
                outcomes[dept.department_id] = replace(outcome, outbox_status=message.status)
    return list(outcomes.values())


async def _persistency_by_department(
    session: AsyncSession, *, week: Week, department_id: int | None
) -> dict[int, list[str]]:
    """Each department's 13/25회차 as of the end of ``week``, and the change from a month before."""
    as_of = week.sunday + timedelta(days=1)
    current = await persistency_report(session, as_of=as_of, department_id=department_id)
    before = await persistency_report(
        session, as_of=add_months(as_of, -1), department_id=department_id
    )
    previous = {d.figures.unit_id: d.figures.rates for d in before.departments}
    # A department without contracts in either cohort (no policy history imported) gets no block.
    return {
        d.figures.unit_id: digest_lines(d.figures.rates, previous.get(d.figures.unit_id, {}))
        for d in current.departments
        if d.figures.unit_id is not None and any(r.policies for r in d.figures.rates.values())
    }


async def send_due_digests(
    sessions: async_sessionmaker[AsyncSession], *, schedule: Schedule
) -> list[DigestOutcome]:
    """One round of the job: queue last week's digests if they are due now."""
    week = schedule.due_week(clock.now())
    if week is None:
        return []
    async with session_scope(sessions) as session:
        return await queue_weekly_digests(session, week=week)


async def run_weekly_digest_worker(
    sessions: async_sessionmaker[AsyncSession],
    *,
    schedule: Schedule,
    interval: float,
    stop: asyncio.Event,
) -> None:
    """Run ``send_due_digests`` every ``interval`` seconds until ``stop`` is set."""
    warned: set[tuple[int, str, Status]] = set()  # only to log each skipped head once

    async def digest_round() -> None:
        for outcome in await send_due_digests(sessions, schedule=schedule):
            _log(outcome, warned)

    await run_every(interval, stop, digest_round, name="weekly digest")


def _log(outcome: DigestOutcome, warned: set[tuple[int, str, Status]]) -> None:
    if outcome.status == Status.QUEUED:
        log.info("weekly digest %s queued for %s", outcome.week.label, outcome.department)
        return
    if outcome.status == Status.ALREADY:
        return
    seen = (outcome.department_id, outcome.week.label, outcome.status)
    if seen not in warned:
        warned.add(seen)
        log.warning(
            "weekly digest %s for %s not sent: %s",
            outcome.week.label,
            outcome.department,
            outcome.status,
        )
