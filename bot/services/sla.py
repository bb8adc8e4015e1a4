"""Service-level deadlines: how long a request may wait for an employee to acknowledge it.

Funeral requests are urgent at any hour; loans and retention tasks (an unpaid premium to act on
before the policy lapses: employees call or visit in office hours) count business hours only (09–18 in Seoul on
working days: not a weekend, a public holiday from :mod:`bot.services.holidays` or a day in
``MILCHAK_EXTRA_HOLIDAYS``) because the loan desk works office hours; everything else counts
wall-clock hours, holidays included. The numbers come from settings (``MILCHAK_SLA_*``);
``Deadlines()`` holds the defaults. The app builds its ``Deadlines`` from settings where it builds
its other parts (the web app, the Telegram application, the workers) and passes them down like
the session factory: there is no process-wide setting to forget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.clock import SEOUL, as_utc
from bot.config import Settings
from bot.db.models import RequestKind
from bot.services.holidays import closed_days


@dataclass(frozen=True)
class Deadlines:
    """Acknowledgement deadlines per request kind."""

    funeral_hours: float = 1.0
    loan_business_hours: float = 4.0
    complaint_hours: float = 24.0
    default_hours: float = 48.0
    retention_business_hours: float = 16.0
    business_day_start: time = time(9, 0)
    business_day_end: time = time(18, 0)
    # Weekdays on which the business-hours clock stands still, like a weekend.
    holidays: frozenset[date] = closed_days()

    @classmethod
    def from_settings(cls, settings: Settings) -> Deadlines:
        """The deadlines configured by the ``MILCHAK_SLA_*`` settings."""
        return cls(
            funeral_hours=settings.sla_funeral_hours,
            loan_business_hours=settings.sla_loan_business_hours,
            complaint_hours=settings.sla_complaint_hours,
            default_hours=settings.sla_default_hours,
            retention_business_hours=settings.sla_retention_business_hours,
            business_day_start=time(settings.business_hours_start),
            business_day_end=time(settings.business_hours_end),
            holidays=closed_days(settings.extra_holidays),
        )

    def is_business_day(self, day: date) -> bool:
        """``day`` is a working day in Seoul: Monday to Friday and not a holiday."""
        return day.weekday() < 5 and day not in self.holidays

    def describe(self, kind: str) -> str:
        """Korean wording of the deadline for ``kind`` (used in escalation reasons)."""
        if kind == RequestKind.FUNERAL:
            return f"{_hours(self.funeral_hours)}시간"
        if kind == RequestKind.LOAN:
            return f"업무시간 기준 {_hours(self.loan_business_hours)}시간"
        if kind == RequestKind.COMPLAINT:
            return f"{_hours(self.complaint_hours)}시간"
        if kind == RequestKind.RETENTION:
            return f"업무시간 기준 {_hours(self.retention_business_hours)}시간"
        return f"{_hours(self.default_hours)}시간"


def _hours(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def add_business_hours(start: datetime, hours: float, deadlines: Deadlines) -> datetime:
    """``start`` plus ``hours`` of Seoul office time (business_day_start–end on business days).

    A request filed at night, on a weekend or on a holiday starts counting at the next opening.
    """
    remaining = timedelta(hours=hours)
    cursor = as_utc(start).astimezone(SEOUL)
    while True:
        if not deadlines.is_business_day(cursor.date()):
            cursor = _opening(cursor.date() + timedelta(days=1), deadlines)
            continue
        opens = datetime.combine(cursor.date(), deadlines.business_day_start, SEOUL)
        closes = datetime.combine(cursor.date(), deadlines.business_day_end, SEOUL)
        if cursor < opens:
            cursor = opens
        if cursor >= closes:
            cursor = _opening(cursor.date() + timedelta(days=1), deadlines)
            continue
        available = closes - cursor
        if remaining <= available:
            return (cursor + remaining).astimezone(UTC)
        remaining -= available
        cursor = _opening(cursor.date() + timedelta(days=1), deadlines)


def _opening(day: date, deadlines: Deadlines) -> datetime:
    return datetime.combine(day, deadlines.business_day_start, SEOUL)


def due_at(kind: str, created_at: datetime, deadlines: Deadlines) -> datetime:
    """When a request of ``kind`` opened (or escalated) at ``created_at`` must be acknowledged."""
    d = deadlines
    start = as_utc(created_at)
    if kind == RequestKind.FUNERAL:
        return start + timedelta(hours=d.funeral_hours)
    if kind == RequestKind.LOAN:
        return add_business_hours(start, d.loan_business_hours, d)
    if kind == RequestKind.COMPLAINT:
        return start + timedelta(hours=d.complaint_hours)
    if kind == RequestKind.RETENTION:
        return add_business_hours(start, d.retention_business_hours, d)
    return start + timedelta(hours=d.default_hours)
