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


async def _columns_0005(engine: AsyncEngine) -> dict[str, bool]:
    def look(connection: Connection) -> dict[str, bool]:
        inspector = inspect(connection)
        found = {}
        for table, column in (
            ("requests", "idempotency_key"),
            ("contacts", "edit_of_id"),
            ("outbox", "retry_until"),
            ("outbox", "contact_id"),
        ):
            found[f"{table}.{column}"] = column in {c["name"] for c in inspector.get_columns(table)}
        found["unique key index"] = any(
            i["name"] == "ux_requests_idempotency_key" and i["unique"]
            for i in inspector.get_indexes("requests")
        )
        if connection.dialect.name == "sqlite":  # no table rebuild: the search triggers live on
            triggers = connection.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contacts'"
            ).scalar()
            found["search triggers"] = triggers == 3
        return found

    async with engine.connect() as connection:
        return await connection.run_sync(look)


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


async def test_0005_turns_edits_retries_down_and_up(engine: AsyncEngine) -> None:
    assert all((await _columns_0005(engine)).values())
    await _downgrade(engine, "0005-1")  # the revision before this one, wherever it is chained
    after = await _columns_0005(engine)
    assert not any(v for k, v in after.items() if k != "search triggers")
    assert after.get("search triggers", True)
    await upgrade(engine)
    assert all((await _columns_0005(engine)).values())


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_0006_admin_sessions_and_throttle_down_and_up(engine: AsyncEngine) -> None:
    added = {"admin_sessions", "admin_login_throttle"}
    assert added <= await _tables(engine)
    await _downgrade(engine, "0006-1")  # the revision before this one, wherever it is chained
    assert not added & await _tables(engine)
    await upgrade(engine)
    assert added <= await _tables(engine)


async def test_0008_geocode_and_assignment_audit_down_and_up(engine: AsyncEngine) -> None:
    assert await _assignment_schema(engine) == (True, True, True)
    await _downgrade(engine, "0008-1")
    assert await _assignment_schema(engine) == (False, False, False)
    await upgrade(engine)
    assert await _assignment_schema(engine) == (True, True, True)
