"""Everything the app stored as text, for tests that look for personal numbers in it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Base
from bot.services.masking import fold

# A run of digits with the separators people put between groups (what a reader would take for
# one number); anything else (Hangul, letters, '*', ':', a line break) ends the run.
_NUMBER_RUN = re.compile(r"[0-9](?:[ .\-+()]{0,3}[0-9])*")


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a stored value (JSON documents included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


async def stored_strings(
    session: AsyncSession, *, after: dict[str, int] | None = None
) -> list[tuple[str, str]]:
    """(table.column, text) for every string in every column of every table of the app.

    ``after`` (from :func:`last_ids`) limits tables with an ``id`` to the rows added since.
    """
    found = []
    for table in Base.metadata.sorted_tables:
        query = select(table)
        if after is not None and "id" in table.c:
            query = query.where(table.c.id > after.get(table.name, 0))
        for row in (await session.execute(query)).mappings():
            for column, value in row.items():
                found.extend((f"{table.name}.{column}", text) for text in strings_in(value))
    return found


async def last_ids(session: AsyncSession) -> dict[str, int]:
    """The largest id of every table that has one."""
    ids = {}
    for table in Base.metadata.sorted_tables:
        if "id" in table.c:
            ids[table.name] = int(await session.scalar(select(func.max(table.c.id))) or 0)
    return ids


def readable_numbers(text: str) -> list[str]:
    """The digits of each number a reader could make out in ``text`` (all shapes folded)."""
    return [re.sub(r"[^0-9]", "", run) for run in _NUMBER_RUN.findall(fold(text))]


def holding(digits: str, strings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The stored strings in which ``digits`` can still be read, whatever their separators."""
    return [
        (where, text)
        for where, text in strings
        if any(digits in number for number in readable_numbers(text))
    ]
