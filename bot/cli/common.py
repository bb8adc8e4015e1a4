"""Helpers shared by CLI commands: settings, an engine for one command, running coroutines."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import get_settings
from bot.db import create_engine_and_sessions

T = TypeVar("T")


def run_with_sessions(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run ``work`` with a session factory on the configured database, then dispose the engine."""

    async def _main() -> T:
        engine, sessions = create_engine_and_sessions(get_settings().database_url)
        try:
            return await work(sessions)
        finally:
            await engine.dispose()

    return asyncio.run(_main())
