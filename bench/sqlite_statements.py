"""Cost of one SQL statement on SQLite through SQLAlchemy: SQLAlchemy's own aiosqlite adapter
against ``bot.db.sqlite_one_hop`` (one trip to aiosqlite's thread per statement), and sqlite3
itself for scale.

Run: .venv/bin/python -m bench.sqlite_statements [--statements 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bot.db.engine import create_engine_and_sessions
from bot.db.models import Base, Employee


async def per_statement_ms(sessions: async_sessionmaker, statements: int) -> tuple[float, float]:
    """Milliseconds per ORM select and per ``select 1``, in one open session."""
    lookup = select(Employee.id).where(Employee.telegram_chat_id == 5)
    async with sessions() as session:
        for _ in range(100):  # warm the statement cache
            await session.scalar(lookup)
        started = time.perf_counter()
        for _ in range(statements):
            await session.scalar(lookup)
        orm = (time.perf_counter() - started) * 1000 / statements
        started = time.perf_counter()
        for _ in range(statements):
            await session.execute(text("select 1"))
        plain = (time.perf_counter() - started) * 1000 / statements
    return orm, plain


async def measure(statements: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        one_hop, one_hop_sessions = create_engine_and_sessions(f"sqlite+aiosqlite:///{path}")
        async with one_hop.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        stock = create_async_engine(f"sqlite+aiosqlite:///{path}")
        for label, sessions in (
            ("SQLAlchemy's aiosqlite adapter", async_sessionmaker(stock)),
            ("bot.db.sqlite_one_hop", one_hop_sessions),
        ):
            orm, plain = await per_statement_ms(sessions, statements)
            print(f"{label:<32} ORM select {orm:.3f} ms   select 1 {plain:.3f} ms")
        await stock.dispose()
        await one_hop.dispose()
        connection_ = sqlite3.connect(path)
        started = time.perf_counter()
        for _ in range(statements):
            connection_.execute("select id from employees where telegram_chat_id = ?", (5,))
        raw = (time.perf_counter() - started) * 1000 / statements
        connection_.close()
        print(f"{'sqlite3 itself':<32} select     {raw:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=2000)
    asyncio.run(measure(parser.parse_args().statements))


if __name__ == "__main__":
    main()
