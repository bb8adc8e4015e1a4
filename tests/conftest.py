"""Shared fixtures: database tests run on SQLite, and on PostgreSQL when configured."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade
from tests.auxil.databases import POSTGRES_SKIP_REASON, postgres_url, temporary_database


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """URL of an empty, migrated database; once per backend."""
    if request.param == "postgres" and not postgres_url():
        pytest.skip(POSTGRES_SKIP_REASON)
    async with temporary_database(request.param, tmp_path) as url:
        engine, _ = create_engine_and_sessions(url)
        await upgrade(engine)
        await engine.dispose()
        yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine, _ = create_engine_and_sessions(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
