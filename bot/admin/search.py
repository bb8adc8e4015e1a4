"""Korean substring search over the contact ledger, using each backend's trigram index.

Korean runs words together ("약관대출받고싶어요"), so a search term must match anywhere in the text.
Migration 0002 adds an FTS5 trigram table on SQLite and a pg_trgm GIN index on PostgreSQL; both
need terms of three characters or more to use the index, so shorter terms are tested row by row
(fast when they are common, a full scan when they are rare).
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Contact

MIN_INDEXED_TERM = 3
MAX_TERMS = 5
# Below this many FTS matches, fetching them by id and sorting beats walking the time index.
FEW_MATCHES = 4000


def search_terms(query: str) -> list[str]:
    """Split a search box entry into terms; every term must occur in the text."""
    return [term for term in query.split() if term][:MAX_TERMS]


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts5_phrase(term: str) -> str:
    """Quote a term as an FTS5 string so its characters are never read as query syntax."""
    return '"' + term.replace('"', '""') + '"'


async def text_condition(session: AsyncSession, query: str) -> ColumnElement[bool]:
    """A WHERE condition on ``Contact`` that holds when every term occurs in its text.

    The trigram index is asked first for up to FEW_MATCHES + 1 matching ids. Few: the ids go
    into the query, which then sorts only those rows. Many: on SQLite the condition is written
    so the planner cannot look every match up by rowid and sort them all; the list walks the
    time index newest first instead, testing each row, and a page fills after a short walk. On
    PostgreSQL the plain ILIKE is left to the planner, which has pg_trgm's estimate.
    """
    terms = search_terms(query)
    if not terms:
        return true()
    fts = await has_fts_table(session)
    indexed = [t for t in terms if len(t) >= MIN_INDEXED_TERM]
    row_tests = [_contains(t) for t in terms if len(t) < MIN_INDEXED_TERM]
    if not indexed:
        return and_(*row_tests)
    if fts:
        phrase = " ".join(_fts5_phrase(t) for t in indexed)
        matching = (
            select(literal_column("rowid", Integer))
            .select_from(text("contacts_fts"))
            .where(text("contacts_fts MATCH :fts_match").bindparams(fts_match=phrase))
        )
    else:
        matching = select(Contact.id).where(*[_contains(t) for t in indexed])
    ids = list((await session.scalars(matching.limit(FEW_MATCHES + 1))).all())
    if len(ids) <= FEW_MATCHES:
        return and_(Contact.id.in_(ids), *row_tests)
    if fts:
        # ``id + 0``: test membership per row instead of looking every match up by rowid.
        return and_((Contact.id + 0).in_(matching.scalar_subquery()), *row_tests)
    return and_(*[_contains(t) for t in indexed], *row_tests)


def _contains(term: str) -> ColumnElement[bool]:
    # Rendered into the SQL text (safely quoted by SQLAlchemy), not sent as a parameter: asyncpg
    # prepares statements, and PostgreSQL's generic plan for "ILIKE $1" cannot know whether the
    # pattern is rare or common, so it would pick one plan for both.
    pattern = bindparam(None, _like_pattern(term), type_=String(), literal_execute=True)
    return Contact.text.ilike(pattern, escape="\\")


async def has_fts_table(session: AsyncSession) -> bool:
    """Whether migration 0002's FTS5 table exists (a schema made by ``create_all`` lacks it)."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    found = await session.scalar(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'contacts_fts'")
    )
    return found is not None
