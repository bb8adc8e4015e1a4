"""Korean substring search over the contact ledger, using each backend's trigram index.

Korean runs words together ("약관대출받고싶어요"), so a search term must match anywhere in the text.
Migration 0002 adds an FTS5 trigram table on SQLite and a pg_trgm GIN index on PostgreSQL; both
need terms of three characters or more to use the index, so shorter terms fall back to LIKE.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal_column, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Contact

MIN_INDEXED_TERM = 3
MAX_TERMS = 5


def search_terms(query: str) -> list[str]:
    """Split a search box entry into terms; every term must occur in the text."""
    return [term for term in query.split() if term][:MAX_TERMS]


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts5_phrase(term: str) -> str:
    """Quote a term as an FTS5 string so its characters are never read as query syntax."""
    return '"' + term.replace('"', '""') + '"'


def text_condition(query: str, *, dialect: str, has_fts: bool) -> ColumnElement[bool]:
    """A WHERE condition on ``Contact`` that holds when every term occurs in its text."""
    terms = search_terms(query)
    if not terms:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if dialect == "sqlite" and has_fts:
        indexed = [t for t in terms if len(t) >= MIN_INDEXED_TERM]
        if indexed:
            match = " ".join(_fts5_phrase(t) for t in indexed)
            fts_ids: Select[tuple[Any]] = (
                select(literal_column("rowid"))
                .select_from(text("contacts_fts"))
                .where(text("contacts_fts MATCH :fts_match").bindparams(fts_match=match))
            )
            conditions.append(Contact.id.in_(fts_ids.scalar_subquery()))
        conditions += [
            Contact.text.like(_like_pattern(t), escape="\\")
            for t in terms
            if len(t) < MIN_INDEXED_TERM
        ]
    else:
        conditions += [Contact.text.ilike(_like_pattern(t), escape="\\") for t in terms]
    return and_(*conditions)


async def has_fts_table(session: AsyncSession) -> bool:
    """Whether migration 0002's FTS5 table exists (a schema made by ``create_all`` lacks it)."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    found = await session.scalar(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'contacts_fts'")
    )
    return found is not None
