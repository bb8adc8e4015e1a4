"""Rasa's conversation trackers in SQL, configured by the one app setting ``rasa_tracker_url``.

``endpoints.yml`` names Rasa's SQL tracker store with ``${MILCHAK_TRACKER_*}`` variables; the
runner sets them from the setting. Rasa expands each variable to a string and fails on an unset
one, and it cannot cast an empty ``port`` to a number, so the port travels inside ``url``
(``host:port``), which Rasa's ``SQLTrackerStore`` splits itself.
"""

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import create_async_engine

SETTING = "MILCHAK_RASA_TRACKER_URL"
DIALECTS = ("sqlite", "postgresql")  # what Rasa's virtualenv has drivers for
# The default of the setting rasa_session_events: about five turns (see bot/config.py).
DEFAULT_SESSION_EVENTS = 40
EVENTS_TABLE = "events"  # Rasa's SQLTrackerStore keeps every tracker in this one table
# Async drivers of the app's own virtualenv, for clearing the store (Rasa's drivers are sync).
_APP_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


@dataclass(frozen=True)
class TrackerDatabase:
    """Where Rasa keeps its trackers, in the terms of ``SQLTrackerStore``."""

    dialect: str
    host: str  # "" for SQLite; "host:port" when a port is given
    database: str  # an absolute file path for SQLite
    username: str
    password: str


def tracker_database(url: str, *, base_dir: Path) -> TrackerDatabase:
    """Read a SQLAlchemy URL; a relative SQLite path is taken from ``base_dir``.

    Rasa runs in the project directory, the app wherever it was started, so the relative path
    is resolved here, where it means the same as the app's own ``./milchak.db``.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ValueError(f"{SETTING} 주소를 읽지 못했습니다: {url!r}") from error
    dialect = parsed.get_backend_name()  # "postgresql+asyncpg" -> "postgresql"
    if dialect not in DIALECTS:
        raise ValueError(
            f"{SETTING}은 sqlite 또는 postgresql 주소여야 합니다 (받은 값: {dialect})."
        )
    if parsed.query:
        raise ValueError(f"{SETTING}의 '?' 뒤 옵션은 지원하지 않습니다. 옵션 없이 적어 주세요.")
    if not parsed.database or parsed.database == ":memory:":
        what = "파일 경로" if dialect == "sqlite" else "이름"
        raise ValueError(f"{SETTING}에 데이터베이스 {what}을 적어 주세요.")
    if dialect == "sqlite":
        return TrackerDatabase("sqlite", "", str(base_dir / parsed.database), "", "")
    host = parsed.host or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address, before ":port" is added
    if parsed.port is not None:
        host = f"{host}:{parsed.port}"
    return TrackerDatabase(
        "postgresql", host, parsed.database, parsed.username or "", parsed.password or ""
    )


def tracker_store_environment(
    url: str, *, base_dir: Path, session_events: int = DEFAULT_SESSION_EVENTS
) -> dict[str, str]:
    """The variables ``endpoints.yml`` reads for the tracker store at ``url``, which starts a
    new session after ``session_events`` events (``bot.rasa_tracker_store``)."""
    target = tracker_database(url, base_dir=base_dir)
    return {
        "MILCHAK_TRACKER_SESSION_EVENTS": str(session_events),
        "MILCHAK_TRACKER_DIALECT": target.dialect,
        "MILCHAK_TRACKER_HOST": target.host,
        "MILCHAK_TRACKER_DB": target.database,
        "MILCHAK_TRACKER_USERNAME": target.username,
        "MILCHAK_TRACKER_PASSWORD": target.password,
    }


async def clear_trackers(url: str, *, base_dir: Path) -> int:
    """Forget every stored conversation; returns how many tracker events were deleted.

    Deleting rows rather than the file keeps a running Rasa working: it reads each tracker
    from the table on every message and caches nothing.
    """
    target = tracker_database(url, base_dir=base_dir)
    if target.dialect == "sqlite":
        if not await asyncio.to_thread(os.path.exists, target.database):
            return 0
        app_url = URL.create(_APP_DRIVERS["sqlite"], database=target.database)
    else:
        app_url = make_url(url).set(drivername=_APP_DRIVERS["postgresql"])
    engine = create_async_engine(app_url)
    try:
        async with engine.begin() as connection:
            exists = await connection.run_sync(lambda c: inspect(c).has_table(EVENTS_TABLE))
            if not exists:
                return 0
            result = await connection.execute(text(f"DELETE FROM {EVENTS_TABLE}"))
            return int(result.rowcount or 0)
    finally:
        await engine.dispose()
