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


async def _assignment_schema(engine: AsyncEngine) -> tuple[bool, bool, bool]:
    def look(connection: Connection) -> tuple[bool, bool, bool]:
        inspector = inspect(connection)
        holders = {c["name"] for c in inspector.get_columns("policyholders")}
        employees = {c["name"] for c in inspector.get_columns("employees")}
        tables = set(inspector.get_table_names())
        return (
            "geocode_level" in holders,
            {"home_address", "home_geocode_level"} <= employees,
            {"assignment_runs", "assignment_changes"} <= tables,
        )

    async with engine.connect() as connection:
        return await connection.run_sync(look)


async def test_0008_geocode_and_assignment_audit_down_and_up(engine: AsyncEngine) -> None:
    assert await _assignment_schema(engine) == (True, True, True)
    await _downgrade(engine, "0008-1")
    assert await _assignment_schema(engine) == (False, False, False)
    await upgrade(engine)
    assert await _assignment_schema(engine) == (True, True, True)
