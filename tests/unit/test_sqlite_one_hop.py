"""The SQLite driver makes one trip to aiosqlite's worker thread per statement, and answers
exactly as SQLAlchemy's own aiosqlite adapter does (rows, RETURNING, row counts, errors)."""

from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from bot.db.engine import create_engine_and_sessions
from bot.db.models import Base, Department
from bot.db.sqlite_one_hop import OneHopDialect


@pytest.fixture
async def sessions(tmp_path: Path):
    engine, sessions = create_engine_and_sessions(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine, sessions
    await engine.dispose()


async def test_an_aiosqlite_url_gets_the_one_hop_dialect(sessions) -> None:
    engine, _ = sessions
    assert isinstance(engine.dialect, OneHopDialect)
    assert engine.dialect.name == "sqlite"  # code that asks which database still hears SQLite


async def test_one_statement_is_one_trip_to_the_worker_thread(sessions, monkeypatch) -> None:
    _, sessionmaker = sessions
    trips = 0
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        nonlocal trips
        trips += 1
        return await original(self, fn, *args, **kwargs)

    async with sessionmaker() as session:
        await session.execute(text("select 1"))  # the transaction has begun
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        assert (await session.execute(text("select 2, 3"))).all() == [(2, 3)]
        assert trips == 1  # SQLAlchemy's adapter: cursor, execute, fetchall, close


async def test_rows_returning_and_row_counts_come_back(sessions) -> None:
    _, sessionmaker = sessions
    async with sessionmaker() as session:
        new_id = await session.scalar(
            insert(Department).values(name="기획부").returning(Department.id)
        )
        assert new_id is not None
        result = await session.execute(
            update(Department).where(Department.id == new_id).values(name="영업부")
        )
        assert result.rowcount == 1  # type: ignore[attr-defined]
        missing = await session.execute(
            update(Department).where(Department.id == new_id + 1).values(name="x")
        )
        assert missing.rowcount == 0  # type: ignore[attr-defined]
        assert (await session.scalars(select(Department.name))).all() == ["영업부"]
        await session.commit()


async def test_a_database_error_is_raised_as_sqlalchemys_error(sessions) -> None:
    _, sessionmaker = sessions
    async with sessionmaker() as session:
        await session.execute(insert(Department).values(id=1, name="기획부"))
        with pytest.raises(IntegrityError):
            await session.execute(insert(Department).values(id=1, name="영업부"))
