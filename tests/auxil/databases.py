"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database per test; empty
and migrated, or holding the demo organisation."""

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

from bot.db import create_engine_and_sessions, session_scope
from bot.db.migrate import upgrade
from bot.demo.seed import seed_demo

POSTGRES_URL_ENV = "MILCHAK_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = f"{POSTGRES_URL_ENV} is not set: PostgreSQL variant not run"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_URL_ENV) or None


def _postgres_base() -> URL:
    base = postgres_url()
    assert base, POSTGRES_SKIP_REASON
    return make_url(base)


def _admin_dsn() -> str:
    """asyncpg's DSN for the configured server's own database, to create and drop others."""
    return _postgres_base().set(drivername="postgresql").render_as_string(hide_password=False)


# --------------------------------------------------------------------------- templates
# Migrating takes about a second and seeding the demo organisation (6,250 policyholders) 5-15 s;
# tests get a copy of a database built once per backend and test session instead (a file copy
# on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL, both well under a second).
Fill = Callable[[str], Awaitable[None]]
_templates: dict[tuple[str, str], str] = {}  # (backend, label) -> SQLite file or database name


async def migrate(url: str) -> None:
    engine, _ = create_engine_and_sessions(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()  # PostgreSQL copies a template only while nobody is connected


def demo_seeded_for(today: date) -> tuple[str, Fill]:
    """The label and the filling of a migrated database holding the demo seeded for ``today``."""

    async def fill(url: str) -> None:
        await migrate(url)
        engine, sessions = create_engine_and_sessions(url)
        try:
            async with session_scope(sessions) as session:
                await seed_demo(session, today=today)
        finally:
            await engine.dispose()

    return f"demo-{today:%Y%m%d}", fill


MIGRATED: tuple[str, Fill] = ("migrated", migrate)


async def template(backend: str, kind: tuple[str, Fill]) -> str:
    """The template database of ``kind`` (label, filling), built on first use."""
    label, fill = kind
    if (backend, label) not in _templates:
        if backend == "sqlite":
            path = Path(tempfile.mkdtemp(prefix=f"milchak-{label}-")) / "template.db"
            await fill(f"sqlite+aiosqlite:///{path}")
            _templates[backend, label] = str(path)
        else:
            name = f"milchak_tpl_{label.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
            await _admin_execute(f'CREATE DATABASE "{name}"')
            _templates[backend, label] = name
            await fill(_postgres_base().set(database=name).render_as_string(hide_password=False))
    return _templates[backend, label]


def copy_sqlite(template_path: str, target: Path) -> None:
    """Copy a SQLite template (and any WAL side files left behind) to ``target``."""
    for suffix in ("", "-wal", "-shm"):
        source = Path(template_path + suffix)
        if source.exists():
            shutil.copyfile(source, f"{target}{suffix}")


@asynccontextmanager
async def database_copy(
    backend: str, tmp_path: Path, kind: tuple[str, Fill] = MIGRATED
) -> AsyncIterator[str]:
    """Yield the URL of a fresh copy of the ``kind`` template, dropped afterwards."""
    source = await template(backend, kind)
    if backend == "sqlite":
        target = tmp_path / "milchak-test.db"
        copy_sqlite(source, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    name = f"milchak_t_{uuid.uuid4().hex[:12]}"
    await _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    try:
        yield _postgres_base().set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin_execute(statement: str) -> None:
    admin = await asyncpg.connect(_admin_dsn())
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def drop_templates() -> None:
    """Remove every template this session built (called once, when the session ends)."""
    for (backend, _), source in list(_templates.items()):
        if backend == "sqlite":
            shutil.rmtree(Path(source).parent, ignore_errors=True)
        else:
            await _admin_execute(f'DROP DATABASE IF EXISTS "{source}" WITH (FORCE)')
    _templates.clear()
