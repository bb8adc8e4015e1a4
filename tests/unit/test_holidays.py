"""Public holidays in the business-hours clock: the table, the substitute rule, extra days."""

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SEOUL, Clock, FrozenClock, set_clock
from bot.config import Settings
from bot.db.engine import session_scope
from bot.services import holidays
from bot.services.escalation import escalate_due
from bot.services.holidays import PUBLIC_HOLIDAYS
from bot.services.sla import Deadlines, due_at
from tests.auxil.employees import build_org, freeze, new_request

CHUSEOK_EVE_2026 = datetime(2026, 9, 23, 16, 0, tzinfo=SEOUL)  # Wed, the day before 추석 전날


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze(CHUSEOK_EVE_2026.astimezone(UTC))
    set_clock(Clock())


def seoul(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("opened", "due"),
    [
        # 2 h on Wed 23 Sep; 24–26 추석, 27 Sunday; 2 h on Mon 28 Sep (no substitute day).
        (CHUSEOK_EVE_2026, seoul(2026, 9, 28, 11, 0)),
        # Filed on a holiday: counting starts at the next working morning.
        (seoul(2026, 9, 25, 10, 0), seoul(2026, 9, 28, 13, 0)),  # 추석 → Monday 09:00
        (seoul(2026, 10, 3, 12, 0), seoul(2026, 10, 6, 13, 0)),  # 개천절 Sat, substitute Mon
        (seoul(2026, 6, 2, 17, 0), seoul(2026, 6, 4, 12, 0)),  # the local election day
        (seoul(2026, 12, 24, 17, 0), seoul(2026, 12, 28, 12, 0)),  # 성탄절 Friday
        (seoul(2027, 2, 5, 15, 0), seoul(2027, 2, 10, 10, 0)),  # 설날 6–8 Feb + substitute 9th
        (seoul(2026, 11, 24, 16, 0), seoul(2026, 11, 25, 11, 0)),  # ordinary week unchanged
    ],
)
def test_loan_deadline_skips_holidays(opened: datetime, due: datetime) -> None:
    assert due_at("loan", opened, Deadlines()) == due


@pytest.mark.parametrize(("kind", "hours"), [("funeral", 1), ("complaint", 24), ("moving", 48)])
def test_wall_clock_deadlines_run_through_holidays(kind: str, hours: int) -> None:
    opened = seoul(2026, 9, 24, 10, 0)  # 추석 전날
    assert due_at(kind, opened, Deadlines()) == opened + timedelta(hours=hours)


def test_extra_holidays_from_settings() -> None:
    settings = Settings(extra_holidays="2026-12-31, 2027-01-04")
    assert settings.extra_holidays == (date(2026, 12, 31), date(2027, 1, 4))
    deadlines = Deadlines.from_settings(settings)
    # Wed 30 Dec 17:00: 1 h; 31 Dec company day off; 1 Jan holiday; weekend; 4 Jan extra day.
    assert due_at("loan", seoul(2026, 12, 30, 17, 0), deadlines) == seoul(2027, 1, 5, 12, 0)
    assert due_at("loan", seoul(2026, 12, 30, 17, 0), Deadlines()) == seoul(2026, 12, 31, 12, 0)
    assert PUBLIC_HOLIDAYS.keys() <= deadlines.holidays  # merged, not replaced


def test_extra_holidays_default_and_bad_dates() -> None:
    assert Settings().extra_holidays == ()
    assert Deadlines.from_settings(Settings()).holidays == frozenset(PUBLIC_HOLIDAYS)
    with pytest.raises(ValueError, match="extra_holidays"):
        Settings(extra_holidays="2026-13-01")


async def _escalate(sessions: async_sessionmaker[AsyncSession], moment: datetime) -> int:
    async with session_scope(sessions) as session:
        return await escalate_due(session, now=moment.astimezone(UTC), deadlines=Deadlines())


async def test_loan_before_chuseok_does_not_escalate_during_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    await new_request(sessions, org, kind="loan")  # Wed 23 Sep 16:00
    assert await _escalate(sessions, seoul(2026, 9, 24, 12, 0)) == 0  # 추석 전날
    assert await _escalate(sessions, seoul(2026, 9, 27, 23, 0)) == 0  # Sunday night
    assert await _escalate(sessions, seoul(2026, 9, 28, 10, 59)) == 0
    assert await _escalate(sessions, seoul(2026, 9, 28, 11, 0)) == 1


def test_every_date_is_a_date_listed_once_with_a_name() -> None:
    source = holidays.__file__
    with open(source, encoding="utf-8") as module:
        listed = [line for line in module if line.strip().startswith("date(20")]
    assert len(listed) == len(PUBLIC_HOLIDAYS)  # a repeated key would silently collapse
    assert all(type(day) is date and name for day, name in PUBLIC_HOLIDAYS.items())
    assert holidays.COVERED_YEARS == {2026, 2027}
    assert list(PUBLIC_HOLIDAYS) == sorted(PUBLIC_HOLIDAYS)


# Recomputed from the rule, independently of the table: fixed dates, plus the lunar dates (not
# derivable here) and the election day.
SUBSTITUTED_ON_WEEKENDS = [(3, 1), (5, 1), (5, 5), (7, 17), (8, 15), (10, 3), (10, 9), (12, 25)]
NEVER_SUBSTITUTED = [(1, 1), (6, 6)]
LUNAR = {
    2026: {"seollal": date(2026, 2, 17), "buddha": date(2026, 5, 24), "chuseok": date(2026, 9, 25)},
    2027: {"seollal": date(2027, 2, 7), "buddha": date(2027, 5, 13), "chuseok": date(2027, 9, 15)},
}
ELECTIONS = {2026: [date(2026, 6, 3)], 2027: []}


def _expected(year: int) -> set[date]:
    lunar = LUNAR[year]
    periods = [
        [lunar[key] + timedelta(days=offset) for offset in (-1, 0, 1)]
        for key in ("seollal", "chuseok")
    ]
    singles = [date(year, m, d) for m, d in SUBSTITUTED_ON_WEEKENDS] + [lunar["buddha"]]
    listed = [
        *singles,
        *(date(year, m, d) for m, d in NEVER_SUBSTITUTED),
        *(day for period in periods for day in period),
        *ELECTIONS[year],
    ]
    days = set(listed)

    def add_substitute(after: date) -> None:
        day = after + timedelta(days=1)
        while day.weekday() >= 5 or day in days:
            day += timedelta(days=1)
        days.add(day)

    for day in sorted(singles):
        if day.weekday() >= 5 or listed.count(day) > 1:
            add_substitute(day)
    for period in periods:
        # Sunday or another holiday only; a Saturday in the period does not count.
        if any(day.weekday() == 6 or listed.count(day) > 1 for day in period):
            add_substitute(period[-1])
    return days


@pytest.mark.parametrize("year", [2026, 2027])
def test_table_matches_the_substitute_rule(year: int) -> None:
    table = {day for day in PUBLIC_HOLIDAYS if day.year == year}
    assert table == _expected(year)


def test_substitute_days_are_named_and_on_weekdays() -> None:
    for day, name in PUBLIC_HOLIDAYS.items():
        if name.startswith("대체공휴일"):
            assert day.weekday() < 5, day
    assert PUBLIC_HOLIDAYS[date(2026, 3, 2)] == "대체공휴일(삼일절)"
    assert date(2026, 9, 28) not in PUBLIC_HOLIDAYS  # 추석 2026 touches a Saturday only


def test_warns_when_the_year_is_not_covered(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.services.holidays"):
        holidays.warn_if_uncovered(date(2027, 6, 1))
        assert not caplog.records
        holidays.warn_if_uncovered(date(2028, 1, 3))
    assert "2028" in caplog.text
