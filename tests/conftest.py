"""Shared fixtures: database tests run on SQLite, and on PostgreSQL when configured.

Tests that need the trained Rasa model (everything under ``tests/e2e``, every module that runs
snippets through ``tests.auxil.rasa_python``, and anything marked ``model``) are skipped with a reason when ``MILCHAK_TEST_WITHOUT_MODEL`` is set: that is
``make check``, the fast loop that never trains.
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade
from tests.auxil.databases import POSTGRES_SKIP_REASON, postgres_url, temporary_database

WITHOUT_MODEL_ENV = "MILCHAK_TEST_WITHOUT_MODEL"
WITHOUT_MODEL_REASON = "needs the trained Rasa model: `make check` skips it, `make test` runs it"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark end-to-end tests as needing the model; skip model tests in the fast loop."""
    skip_model = (
        pytest.mark.skip(reason=WITHOUT_MODEL_REASON) if os.environ.get(WITHOUT_MODEL_ENV) else None
    )
    for item in items:
        module = getattr(item, "module", None)
        if "e2e" in item.path.parts or hasattr(module, "run_with_model"):
            item.add_marker(pytest.mark.model)
        if skip_model and item.get_closest_marker("model"):
            item.add_marker(skip_model)


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
