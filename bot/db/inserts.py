"""``INSERT … ON CONFLICT DO NOTHING`` for either database, instead of a savepoint.

A savepoint cannot guard an insert on SQLite: pysqlite begins a transaction only at the first
write, so a SAVEPOINT issued before it is the outermost transaction and its RELEASE commits the
caller's work early. Letting the database skip the conflicting row needs no savepoint at all.

The dialects' own ``insert().on_conflict_do_…()`` have no cache key (SQLAlchemy 2.0 leaves its
"on conflict" constructs out of the compilation cache), so every execution compiled the
statement afresh: the ledger's insert of every inbound message among them, and a webhook
update's chat claim. The clauses here say what SQL they render in their cache keys, and SQLite
and PostgreSQL spell them the same way.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ClauseElement, ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.visitors import InternalTraversal


class OnConflictDoNothing(ClauseElement):
    """``ON CONFLICT [(columns)] DO NOTHING``; its cache key is the column names it renders."""

    __visit_name__ = "milchak_on_conflict_do_nothing"
    _traverse_internals = [("columns", InternalTraversal.dp_string_list)]  # noqa: RUF012

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns


@compiles(OnConflictDoNothing)
def _render_on_conflict(element: OnConflictDoNothing, compiler: SQLCompiler, **kw: Any) -> str:
    if not element.columns:
        return "ON CONFLICT DO NOTHING"
    target = ", ".join(compiler.preparer.quote(column) for column in element.columns)
    return f"ON CONFLICT ({target}) DO NOTHING"


class OnConflictDoUpdate(ClauseElement):
    """``ON CONFLICT (target) DO UPDATE SET column = excluded.column, … [WHERE condition]``: a
    conflicting row takes the new row's ``columns`` where ``condition`` holds."""

    __visit_name__ = "milchak_on_conflict_do_update"
    _traverse_internals = [  # noqa: RUF012
        ("target", InternalTraversal.dp_string_list),
        ("columns", InternalTraversal.dp_string_list),
        ("condition", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self, target: list[str], columns: list[str], condition: ColumnElement[bool] | None
    ) -> None:
        self.target = target
        self.columns = columns
        self.condition = condition


@compiles(OnConflictDoUpdate)
def _render_on_conflict_update(
    element: OnConflictDoUpdate, compiler: SQLCompiler, **kw: Any
) -> str:
    quote = compiler.preparer.quote
    target = ", ".join(quote(column) for column in element.target)
    assignments = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in element.columns)
    sql = f"ON CONFLICT ({target}) DO UPDATE SET {assignments}"
    if element.condition is not None:
        where_kw = {**kw, "include_table": True, "use_schema": False}
        sql += f" WHERE {compiler.process(element.condition, **where_kw)}"
    return sql


def _names(columns: list[InstrumentedAttribute[Any]]) -> list[str]:
    return [column.expression.name for column in columns]


class InsertUnlessConflict(Insert):
    """An INSERT whose conflicting row is skipped; cached like any plain insert."""

    inherit_cache = True  # the clause is in Insert's cache key (its post-values clause)

    def __init__(self, model: Any, unique: InstrumentedAttribute[Any] | None) -> None:
        super().__init__(model)
        self._post_values_clause = OnConflictDoNothing([] if unique is None else _names([unique]))


class Upsert(Insert):
    """An INSERT whose conflicting row (on ``target``) takes the new row's ``refresh`` columns
    where ``condition`` holds; cached like any plain insert."""

    inherit_cache = True

    def __init__(
        self,
        model: Any,
        *,
        target: list[InstrumentedAttribute[Any]],
        refresh: list[InstrumentedAttribute[Any]],
        condition: ColumnElement[bool] | None = None,
    ) -> None:
        super().__init__(model)
        self._post_values_clause = OnConflictDoUpdate(_names(target), _names(refresh), condition)


async def insert_unless_conflict(
    session: AsyncSession, model: Any, unique: InstrumentedAttribute[Any] | None, **values: Any
) -> int | None:
    """Insert a ``model`` row; its id, or None when ``unique`` already holds the value.

    With ``unique=None`` a conflict on any of the table's unique indexes skips the row.
    """
    statement = InsertUnlessConflict(model, unique).values(**values).returning(model.id)
    result: int | None = await session.scalar(statement)
    return result
