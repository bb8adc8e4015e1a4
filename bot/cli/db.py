"""``milchak db``: schema migrations."""

import asyncio

import click

from bot.config import get_settings
from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade


@click.group()
def db() -> None:
    """데이터베이스 관리."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""

    async def _main() -> None:
        engine, _ = create_engine_and_sessions(get_settings().database_url)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(_main())
    click.echo(f"데이터베이스를 최신 스키마({revision})로 맞췄습니다.")
