"""SQLAlchemy's aiosqlite dialect with one trip to the database thread per statement.

aiosqlite runs each SQLite call on its own worker thread; every call is a queue put, a thread
wake-up and an event-loop wake-up. SQLAlchemy's adapter (2.0) makes four such calls for each
statement: open a cursor, execute, fetch all rows, close. On this project's 2-core machine an
ORM select cost 0.87 ms that way (0.37 ms in one trip), against 0.006 ms in sqlite3 itself,
and a policyholder's turn runs about a dozen (``bench/sqlite_statements.py``). ``OneHopCursor`` does
the four steps in a single call on the worker thread; everything else is SQLAlchemy's own.

``bot.db.engine`` uses it for ``sqlite+aiosqlite`` URLs. It leans on aiosqlite's private
``Connection._execute`` (a function queued to the worker thread, present since aiosqlite 0.13),
which is why pyproject.toml bounds aiosqlite's version.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

DRIVER = "milchak_aiosqlite"


def _run(
    connection: Any, operation: str, parameters: Any
) -> tuple[Any, list[Any] | None, int | None, int]:
    """On the worker thread: execute, fetch everything, close (what SQLAlchemy's adapter does
    in four trips)."""
    sqlite_connection: sqlite3.Connection = connection._conn
    cursor = sqlite_connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            description, rows, lastrowid, rowcount = self.await_(
                self._connection._execute(_run, self._connection, operation, parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        if description:
            self.description = description
            self.lastrowid = self.rowcount = -1
            self._rows = deque(rows or ())
        else:
            self.description = None
            self.lastrowid = lastrowid
            self.rowcount = rowcount


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return OneHopCursor(self)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


class OneHopDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return OneHopDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneHopDialect")
