"""Korean substring search over the contact ledger, using each backend's trigram index.

Korean runs words together ("약관대출받고싶어요"), so a search term must match anywhere in the text.
Migration 0002 adds an FTS5 trigram table on SQLite and a pg_trgm GIN index on PostgreSQL; both
need terms of three characters or more to use the index, so shorter terms fall back to LIKE.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, Select, and_, literal_column, select, text, true
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
    """A WHERE condition on ``Contact`` that holds when every term occurs in its text."""
    terms = search_terms(query)
    if not terms:
        return true()
    dialect = session.get_bind().dialect.name
    if dialect != "sqlite" or not await has_fts_table(session):
        return and_(*[Contact.text.ilike(_like_pattern(t), escape="\\") for t in terms])
    conditions: list[ColumnElement[bool]] = [
        Contact.text.like(_like_pattern(t), escape="\\") for t in terms if len(t) < MIN_INDEXED_TERM
    ]
    indexed = [t for t in terms if len(t) >= MIN_INDEXED_TERM]
    if indexed:
        conditions.append(await _fts_condition(session, " ".join(_fts5_phrase(t) for t in indexed)))
    return and_(*conditions)


async def _fts_condition(session: AsyncSession, match: str) -> ColumnElement[bool]:
    """Pick the cheaper plan for this term on SQLite.

    Few matches: hand their ids to the query, which then sorts only those rows. Many matches:
    walk the ``created_at`` index newest first and test each row against the FTS result;
    ``id + 0`` stops SQLite from turning the test into thousands of rowid look-ups plus a sort.
    """
    matching: Select[tuple[int]] = (
        select(literal_column("rowid", Integer))
        .select_from(text("contacts_fts"))
        .where(text("contacts_fts MATCH :fts_match").bindparams(fts_match=match))
    )
    few = await session.scalars(matching.limit(FEW_MATCHES + 1))
    ids = list(few.all())
    if len(ids) <= FEW_MATCHES:
        return Contact.id.in_(ids)
    return (Contact.id + 0).in_(matching.scalar_subquery())


async def has_fts_table(session: AsyncSession) -> bool:
    """Whether migration 0002's FTS5 table exists (a schema made by ``create_all`` lacks it)."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    found = await session.scalar(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'contacts_fts'")
    )
    return found is not None
