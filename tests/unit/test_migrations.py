"""Migrations run both ways on SQLite and PostgreSQL (the ``engine`` fixture starts at head)."""

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.migrate import alembic_config, upgrade


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _outbox_dedupe(engine: AsyncEngine) -> tuple[bool, list[tuple[str, bool]]]:
    def look(connection: Connection) -> tuple[bool, list[tuple[str, bool]]]:
        inspector = inspect(connection)
        columns = {c["name"] for c in inspector.get_columns("outbox")}
        indexes = [
            (str(i["name"]), bool(i["unique"]))
            for i in inspector.get_indexes("outbox")
            if i["column_names"] == ["dedupe_key"]
        ]
        return "dedupe_key" in columns, indexes

    async with engine.connect() as connection:
        return await connection.run_sync(look)


async def test_0004_outbox_dedupe_key_down_and_up(engine: AsyncEngine) -> None:
    assert await _outbox_dedupe(engine) == (True, [("ux_outbox_dedupe_key", True)])
    await _downgrade(engine, "0003")
    assert await _outbox_dedupe(engine) == (False, [])
    await upgrade(engine)
    assert await _outbox_dedupe(engine) == (True, [("ux_outbox_dedupe_key", True)])


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_0006_admin_sessions_and_throttle_down_and_up(engine: AsyncEngine) -> None:
    added = {"admin_sessions", "admin_login_throttle"}
    assert added <= await _tables(engine)
    await _downgrade(engine, "0004")
    assert not added & await _tables(engine)
    await upgrade(engine)
    assert added <= await _tables(engine)
