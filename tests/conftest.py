"""Shared fixtures: database tests run on SQLite, and on PostgreSQL when configured.

Tests that need the trained Rasa model (everything under ``tests/e2e``, every module that runs
snippets through ``tests.auxil.rasa_python``, and anything marked ``model``) are skipped with a reason when ``MILCHAK_TEST_WITHOUT_MODEL`` is set: that is
``make check``, the fast loop that never trains.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import create_engine_and_sessions
from tests.auxil.databases import (
    POSTGRES_SKIP_REASON,
    database_copy,
    demo_seeded_for,
    drop_templates,
    postgres_url,
)

WITHOUT_MODEL_ENV = "MILCHAK_TEST_WITHOUT_MODEL"
WITHOUT_MODEL_REASON = "needs the trained Rasa model: `make check` skips it, `make test` runs it"
DEMO_TODAY = date(2026, 11, 25)  # the day the unit tests' demo organisation is seeded for


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


def pytest_sessionfinish(session: pytest.Session) -> None:
    asyncio.run(drop_templates())  # no event loop runs between sessions' tests


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """URL of an empty, migrated database (a copy of the session's template); once per backend."""
    if request.param == "postgres" and not postgres_url():
        pytest.skip(POSTGRES_SKIP_REASON)
    async with database_copy(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine, _ = create_engine_and_sessions(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture(params=["sqlite", "postgres"])
async def demo_sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a database holding the demo organisation seeded for ``DEMO_TODAY`` (a copy
    of one template per backend, so each test may change it); once per backend."""
    if request.param == "postgres" and not postgres_url():
        pytest.skip(POSTGRES_SKIP_REASON)
    async with database_copy(request.param, tmp_path, demo_seeded_for(DEMO_TODAY)) as url:
        engine, sessions = create_engine_and_sessions(url)
        yield sessions
        await engine.dispose()
