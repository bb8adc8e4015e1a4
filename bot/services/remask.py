"""Mask what was stored before masking covered every shape and every column (run once).

Rows written since ``bot.db.types`` are masked already; older ones may hold a 주민등록번호 typed
without a hyphen, an account with a 7-digit group, or unmasked request summaries, notes,
rating comments, outbox texts and audit details. This walks those columns in id order, in
batches, and rewrites only the values that change. Safe to run again: masking is idempotent.
Rasa's tracker store is not rewritten here: its events are Rasa's; empty it instead (the
conversations are short-lived form state).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import AuditLog, Contact, OutboxMessage, Request, RequestEvent
from bot.services.masking import mask_json, mask_personal_numbers

COLUMNS: tuple[tuple[Any, str], ...] = (
    (Contact, "text"),
    (Request, "summary"),
    (Request, "details"),
    (Request, "rating_comment"),
    (RequestEvent, "note"),
    (OutboxMessage, "text"),
    (AuditLog, "detail"),
)


def _masked(value: Any) -> Any:
    return mask_personal_numbers(value) if isinstance(value, str) else mask_json(value)


async def _one_column(
    sessions: async_sessionmaker[AsyncSession], model: Any, name: str, batch: int
) -> int:
    column = getattr(model, name)
    changed = 0
    last_id = 0
    while True:
        async with session_scope(sessions) as session:
            rows = (
                await session.execute(
                    select(model.id, column)
                    .where(model.id > last_id, column.is_not(None))
                    .order_by(model.id)
                    .limit(batch)
                )
            ).all()
            for row_id, value in rows:
                masked = _masked(value)
                if masked != value:
                    await session.execute(
                        update(model)
                        .where(model.id == row_id)
                        .values({name: masked})
                        .execution_options(synchronize_session=False)
                    )
                    changed += 1
        if len(rows) < batch:
            return changed
        last_id = rows[-1][0]


async def mask_stored_text(
    sessions: async_sessionmaker[AsyncSession], *, batch: int = 2000
) -> dict[str, int]:
    """Mask every stored free-text value; how many values changed, per table.column."""
    return {
        f"{model.__tablename__}.{name}": await _one_column(sessions, model, name, batch)
        for model, name in COLUMNS
    }
