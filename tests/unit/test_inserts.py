"""``bot.db.inserts``: the conflicting row is skipped (``insert_unless_conflict``) or refreshed
where a condition holds (``Upsert``), on both databases, from a cached compilation (the
dialects' own on-conflict inserts are compiled anew on every execution)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import session_scope
from bot.db.inserts import InsertUnlessConflict, Upsert, insert_unless_conflict
from bot.db.models import ChatClaim, Contact


def _inbound(update_id: int, text: str) -> dict[str, object]:
    return {
        "direction": "in",
        "sender": "policyholder",
        "text": text,
        "telegram_update_id": update_id,
    }


def compilations(engine: AsyncEngine, prefix: str) -> list[str]:
    """How SQLAlchemy's statement cache served each execution of statements starting with
    ``prefix`` (CACHE_MISS, CACHE_HIT, NO_CACHE_KEY …), filled in as they run."""
    states: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(prefix):
            states.append(context.cache_hit.name)

    return states


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
    cache_states = compilations(engine, "INSERT INTO contacts")

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


def _claim(owner: str, *, now: datetime, holding: bool = False) -> Upsert:
    """The chat claim's statement: a conflicting row not held, or whose lease ran out, is taken."""
    statement = Upsert(
        ChatClaim,
        target=[ChatClaim.chat_id, ChatClaim.update_id],
        refresh=[ChatClaim.owner, ChatClaim.holding, ChatClaim.lease_until],
        condition=or_(ChatClaim.holding.is_(False), ChatClaim.lease_until < now),
    )
    return statement.values(
        chat_id=1,
        update_id=2,
        owner=owner,
        holding=holding,
        lease_until=now + timedelta(seconds=30),
    )


async def test_an_upsert_refreshes_the_row_only_where_its_condition_holds(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    cache_states = compilations(engine, "INSERT INTO chat_claims")

    async def holder() -> tuple[str, bool]:
        async with sessions() as session:
            row = (await session.execute(select(ChatClaim.owner, ChatClaim.holding))).one()
        return row.owner, row.holding

    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    for owner, seconds, holding, expected in (
        ("a", 0, True, ("a", True)),  # a new row: inserted as it is
        ("b", 10, False, ("a", True)),  # held, lease running: a keeps it
        ("c", 40, False, ("c", False)),  # held, lease ran out: c takes it
    ):
        async with session_scope(sessions) as session:
            await session.execute(
                _claim(owner, now=start + timedelta(seconds=seconds), holding=holding)
            )
        assert await holder() == expected
    assert cache_states == ["CACHE_MISS", "CACHE_HIT", "CACHE_HIT"]
