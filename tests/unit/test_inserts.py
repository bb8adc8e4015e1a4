"""``insert_unless_conflict``: skips the conflicting row, on both databases, from a cached
compilation (the dialects' own on-conflict insert is compiled anew on every execution)."""

from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import session_scope
from bot.db.inserts import InsertUnlessConflict, insert_unless_conflict
from bot.db.models import Contact


def _inbound(update_id: int, text: str) -> dict[str, object]:
    return {
        "direction": "in",
        "sender": "policyholder",
        "text": text,
        "telegram_update_id": update_id,
    }


async def test_a_repeated_unique_value_is_skipped_and_the_rest_kept(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(sessions) as session:
        first = await insert_unless_conflict(
            session, Contact, Contact.telegram_update_id, **_inbound(7, "처음")
        )
        again = await insert_unless_conflict(
            session, Contact, Contact.telegram_update_id, **_inbound(7, "다시")
        )
        other = await insert_unless_conflict(session, Contact, None, **_inbound(8, "다른 것"))
        clash_on_any_index = await insert_unless_conflict(
            session, Contact, None, **_inbound(8, "또")
        )
    assert first is not None and other is not None and first != other
    assert again is None and clash_on_any_index is None
    async with sessions() as session:
        kept = (await session.scalars(select(Contact.text).order_by(Contact.id))).all()
    assert kept == ["처음", "다른 것"]


async def test_the_second_execution_reuses_the_compiled_statement(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    cache_states: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO contacts"):
            cache_states.append(context.cache_hit.name)

    for update_id in (11, 12):
        async with session_scope(sessions) as session:
            await insert_unless_conflict(
                session, Contact, Contact.telegram_update_id, **_inbound(update_id, "안녕하세요")
            )
    async with sessions() as session:
        assert await session.scalar(select(func.count(Contact.id))) == 2
    # The dialects' own construct would log NO_CACHE_KEY both times.
    assert cache_states == ["CACHE_MISS", "CACHE_HIT"]


def test_both_dialects_render_the_conflict_target() -> None:
    statement = InsertUnlessConflict(Contact, Contact.telegram_update_id).values(text="x")
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert "ON CONFLICT (telegram_update_id) DO NOTHING" in str(
            statement.compile(dialect=dialect)
        )
    anywhere = InsertUnlessConflict(Contact, None).values(text="x")
    assert str(anywhere.compile(dialect=sqlite.dialect())).endswith("ON CONFLICT DO NOTHING")
