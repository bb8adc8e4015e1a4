"""Rasa's SQL tracker store: the one setting mapped to endpoints.yml, and clearing it."""

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.config import PROJECT_ROOT, Settings, get_settings
from bot.db import create_engine_and_sessions
from bot.lock_store import lock_store_environment
from bot.runner import rasa_environment
from bot.tracker_store import (
    DEFAULT_SESSION_EVENTS,
    TrackerDatabase,
    clear_trackers,
    tracker_database,
    tracker_store_environment,
)

BASE = Path("/srv/milchak")
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def test_default_is_a_sqlite_file_next_to_the_app_database() -> None:
    defaults = Settings.model_fields
    app_db = make_url(defaults["database_url"].default).database
    tracker = tracker_database(defaults["rasa_tracker_url"].default, base_dir=BASE)
    assert tracker == TrackerDatabase("sqlite", "", "/srv/milchak/milchak-trackers.db", "", "")
    assert Path(tracker.database).parent == (BASE / str(app_db)).parent


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////var/lib/trackers.db", ("sqlite", "", "/var/lib/trackers.db", "", "")),
        ("sqlite+aiosqlite:///data/t.db", ("sqlite", "", "/srv/milchak/data/t.db", "", "")),
        (
            "postgresql://milchak:s%40cret@db.internal:5432/rasa",
            ("postgresql", "db.internal:5432", "rasa", "milchak", "s@cret"),
        ),
        ("postgresql+asyncpg://u@db/rasa", ("postgresql", "db", "rasa", "u", "")),
        (
            "postgresql+psycopg2://u:p@[::1]:6543/rasa",
            ("postgresql", "[::1]:6543", "rasa", "u", "p"),
        ),
    ],
)
def test_url_maps_to_sql_tracker_store_keys(url: str, expected: tuple[str, ...]) -> None:
    assert tracker_database(url, base_dir=BASE) == TrackerDatabase(*expected)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("mysql://u:p@db/rasa", "sqlite 또는 postgresql"),
        ("sqlite://", "파일 경로"),
        ("sqlite:///:memory:", "파일 경로"),
        ("postgresql://u:p@db:5432", "이름"),
        ("postgresql://u:p@db/rasa?sslmode=require", "옵션"),
        ("not a url", "읽지 못했습니다"),
    ],
)
def test_unusable_urls_are_refused_in_korean(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        tracker_database(url, base_dir=BASE)


def test_rasa_environment_carries_the_tracker_store() -> None:
    settings = Settings(
        web_port=8123,
        rasa_tracker_url="postgresql+asyncpg://u:p@db:5432/rasa",
        action_token=SecretStr("unit-action-token-0123456789"),
        rasa_token=SecretStr("unit-rasa-token-0123456789"),
        rasa_session_events=120,
    )
    env = rasa_environment(settings)
    assert env["MILCHAK_ACTION_ENDPOINT"] == "http://127.0.0.1:8123/actions/webhook"
    assert env["MILCHAK_ACTION_TOKEN"] == "unit-action-token-0123456789"
    assert env["MILCHAK_RASA_TOKEN"] == "unit-rasa-token-0123456789"
    assert {k: v for k, v in env.items() if k.startswith("MILCHAK_TRACKER_")} == {
        "MILCHAK_TRACKER_DIALECT": "postgresql",
        "MILCHAK_TRACKER_HOST": "db:5432",
        "MILCHAK_TRACKER_DB": "rasa",
        "MILCHAK_TRACKER_USERNAME": "u",
        "MILCHAK_TRACKER_PASSWORD": "p",
        "MILCHAK_TRACKER_SESSION_EVENTS": "120",
    }


# Rasa reads endpoints.yml itself: expand the variables as Rasa does and build the URL its
# SQLTrackerStore would connect to, without connecting.
_RASA_READS_ENDPOINTS = """
import json, os, sys
from rasa.core.tracker_store import SQLTrackerStore, validate_port
from rasa.utils.endpoints import read_endpoint_config
for env in json.loads(sys.stdin.read()):
    os.environ.update(env)
    config = read_endpoint_config(sys.argv[1], "tracker_store")
    kwargs = dict(config.kwargs)
    url = SQLTrackerStore.get_db_url(
        kwargs.pop("dialect"), config.url, validate_port(kwargs.pop("port", None)),
        kwargs.pop("db"), kwargs.pop("username"), kwargs.pop("password"),
    )
    print(json.dumps([config.type, url.render_as_string(hide_password=False), kwargs]))
"""


def _parts(url: str) -> tuple[object, ...]:
    """What a URL connects to; Rasa keeps empty user names and passwords ("sqlite://:@//…")."""
    u = make_url(url)
    return (
        u.drivername,
        u.host or None,
        u.port,
        u.database,
        u.username or None,
        u.password or None,
    )


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="no Rasa virtualenv (`make setup`)")
def test_rasa_reads_our_endpoints_as_the_same_database(tmp_path: Path) -> None:
    urls = {
        "sqlite:///./milchak-trackers.db": f"sqlite:///{tmp_path}/milchak-trackers.db",
        "postgresql+asyncpg://milchak:p%40ss%3Aw%2Frd@db.internal:5433/rasa": (
            "postgresql://milchak:p%40ss%3Aw%2Frd@db.internal:5433/rasa"
        ),
        "postgresql://rasa@db.internal/rasa": "postgresql://rasa@db.internal/rasa",
    }
    cases = [tracker_store_environment(url, base_dir=tmp_path) for url in urls]
    seen = _rasa_reads_endpoints(_RASA_READS_ENDPOINTS, cases, lock_store_environment(None))
    assert [(kind, _parts(url)) for kind, url, _ in seen] == [
        ("bot.rasa_tracker_store.SessionRollingTrackerStore", _parts(expected))
        for expected in urls.values()
    ]
    assert all(extra == {"session_events": str(DEFAULT_SESSION_EVENTS)} for _, _, extra in seen)


def _rasa_reads_endpoints(
    script: str, cases: list[dict[str, str]], environment: dict[str, str]
) -> list[Any]:
    """What ``script``, run by Rasa's Python on our endpoints.yml, prints for each case."""
    done = subprocess.run(
        [str(RASA_PYTHON), "-W", "ignore", "-c", script, "endpoints.yml"],
        input=json.dumps(cases),
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "MILCHAK_ACTION_ENDPOINT": "http://127.0.0.1:1/actions/webhook",
            "MILCHAK_ACTION_TOKEN": "unit-action-token-0123456789",
            **environment,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


# The lock store Rasa builds from endpoints.yml, without connecting (redis-py connects lazily).
_RASA_BUILDS_LOCK_STORE = """
import json, os, sys
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import read_endpoint_config
for env in json.loads(sys.stdin.read()):
    os.environ.update(env)
    store = LockStore.create(read_endpoint_config(sys.argv[1], "lock_store"))
    where = None
    if isinstance(store, RedisLockStore):
        kwargs = store.red.connection_pool.connection_kwargs
        where = [kwargs["host"], kwargs["port"], kwargs["db"], kwargs.get("password")]
        where.append(store.key_prefix)
    print(json.dumps([type(store).__name__, where]))
"""


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="no Rasa virtualenv (`make setup`)")
def test_rasa_builds_the_lock_store_from_the_redis_setting(tmp_path: Path) -> None:
    cases = [
        lock_store_environment(None),
        lock_store_environment("redis://127.0.0.1:6380/2"),
        lock_store_environment("redis://:s%40cret@redis.internal"),
    ]
    store_env = tracker_store_environment("sqlite:///./t.db", base_dir=tmp_path)
    assert _rasa_reads_endpoints(_RASA_BUILDS_LOCK_STORE, cases, store_env) == [
        ["InMemoryLockStore", None],
        ["RedisLockStore", ["127.0.0.1", 6380, 2, "", "milchak:lock:"]],  # no AUTH
        ["RedisLockStore", ["redis.internal", 6379, 1, "s@cret", "milchak:lock:"]],
    ]


def test_a_redis_url_that_is_not_redis_is_refused() -> None:
    with pytest.raises(ValueError, match="redis://"):
        lock_store_environment("http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="숫자"):
        lock_store_environment("redis://127.0.0.1:6379/locks")


def _tracker_file(path: Path, senders: list[str]) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT)")
        connection.executemany("INSERT INTO events (sender_id) VALUES (?)", [(s,) for s in senders])


def _events(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM events").fetchone()[0])


async def test_clear_trackers_empties_the_events_table(db_url: str, tmp_path: Path) -> None:
    engine, _ = create_engine_and_sessions(db_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT)")
        )
        await connection.execute(
            text("INSERT INTO events (id, sender_id) VALUES (1, 'ph1'), (2, 'ph2')")
        )
    assert await clear_trackers(db_url, base_dir=tmp_path) == 2
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM events")) == 0
    await engine.dispose()


async def test_clear_trackers_leaves_missing_stores_alone(tmp_path: Path) -> None:
    assert await clear_trackers("sqlite:///./none.db", base_dir=tmp_path) == 0
    assert not (tmp_path / "none.db").exists()  # not created behind Rasa's back
    sqlite3.connect(tmp_path / "empty.db").close()
    assert await clear_trackers("sqlite:///./empty.db", base_dir=tmp_path) == 0


def test_db_upgrade_of_a_new_database_forgets_old_conversations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trackers = tmp_path / "trackers.db"
    _tracker_file(trackers, ["ph1", "ph1", "ph7"])
    monkeypatch.setenv("MILCHAK_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("MILCHAK_RASA_TRACKER_URL", f"sqlite:///{trackers}")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(main, ["db", "upgrade"])
        assert first.exit_code == 0, first.output
        assert "이벤트 3건)을 지웠습니다" in first.output
        assert _events(trackers) == 0

        with sqlite3.connect(trackers) as connection:
            connection.execute("INSERT INTO events (sender_id) VALUES ('ph1')")
        again = runner.invoke(main, ["db", "upgrade"])
        assert again.exit_code == 0, again.output
        assert "지웠습니다" not in again.output
        assert _events(trackers) == 1  # an existing database keeps its conversations
    finally:
        get_settings.cache_clear()
