"""``INSERT … ON CONFLICT DO NOTHING`` for either database, instead of a savepoint.

A savepoint cannot guard an insert on SQLite: pysqlite begins a transaction only at the first
write, so a SAVEPOINT issued before it is the outermost transaction and its RELEASE commits the
caller's work early. Letting the database skip the conflicting row needs no savepoint at all.
"""

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


async def insert_unless_conflict(
    session: AsyncSession, model: Any, unique: InstrumentedAttribute[Any] | None, **values: Any
) -> int | None:
    """Insert a ``model`` row; its id, or None when ``unique`` already holds the value.

    With ``unique=None`` a conflict on any of the table's unique indexes skips the row.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values)
    if unique is None:
        statement = statement.on_conflict_do_nothing()
    else:
        statement = statement.on_conflict_do_nothing(index_elements=[unique])
    result: int | None = await session.scalar(statement.returning(model.id))
    return result
