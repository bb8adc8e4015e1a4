"""The app's sense of time: one replaceable clock, so tests can move time forward."""

from datetime import UTC, datetime, timedelta
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
