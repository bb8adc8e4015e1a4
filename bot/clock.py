"""The app's sense of time: one replaceable clock, so tests can move time forward; the company's
calendar (Seoul); stored times read back as UTC."""

from datetime import UTC, date, datetime, timedelta
from typing import overload
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")


class Clock:
    """Wall-clock time; tests swap in a ``FrozenClock``."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def seoul_now(self) -> datetime:
        return self.now().astimezone(SEOUL)


class FrozenClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


clock: Clock = Clock()


def set_clock(new_clock: Clock) -> None:
    """Replace the process-wide clock (tests only)."""
    global clock
    clock = new_clock


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return clock.now()


def today() -> date:
    """Today's date in Seoul, the company's calendar."""
    return clock.seoul_now().date()


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """A timezone-aware UTC datetime; SQLite hands stored UTC times back without a zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
