"""``milchak db``: schema migrations."""

import asyncio
from pathlib import Path

import click

from bot.config import get_settings
from bot.db import create_engine_and_sessions
from bot.db.migrate import current_revision, upgrade
from bot.services.remask import mask_stored_text
from bot.tracker_store import clear_trackers, tracker_database


@click.group()
def db() -> None:
    """데이터베이스 관리."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION; a new database also starts Rasa's memory afresh."""
    settings = get_settings()
    try:
        tracker_database(settings.rasa_tracker_url, base_dir=Path.cwd())
    except ValueError as error:
        raise click.ClickException(str(error)) from error

    async def _main() -> int:
        engine, _ = create_engine_and_sessions(settings.database_url)
        try:
            cleared = 0
            if await current_revision(engine) is None:
                # Rasa keys conversations by policyholder id (ph<id>); in a new database those
                # ids belong to other people, so old half-filled forms must not reach them.
                # Cleared first, so that if clearing fails the database is still new next time.
                cleared = await clear_trackers(settings.rasa_tracker_url, base_dir=Path.cwd())
            await upgrade(engine, revision)
            return cleared
        finally:
            await engine.dispose()

    cleared = asyncio.run(_main())
    click.echo(f"데이터베이스를 최신 스키마({revision})로 맞췄습니다.")
    if cleared:
        click.echo(f"새 데이터베이스라서 이전 Rasa 대화 기록(이벤트 {cleared:,}건)을 지웠습니다.")


@db.command("mask-existing")
def db_mask_existing() -> None:
    """Mask personal numbers in rows stored before every shape and column was masked (once)."""
    settings = get_settings()

    async def _main() -> dict[str, int]:
        engine, sessions = create_engine_and_sessions(settings.database_url)
        try:
            return await mask_stored_text(sessions)
        finally:
            await engine.dispose()

    changed = asyncio.run(_main())
    for column, count in changed.items():
        click.echo(f"{column}: {count:,}건을 가렸습니다.")
