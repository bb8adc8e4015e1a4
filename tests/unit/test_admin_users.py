"""Console accounts: argon2 hashes, roles, lockout after repeated failures."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db.models import AdminUser, Department
from bot.services.admin_users import (
    MAX_FAILED_LOGINS,
    AdminUserError,
    LoginOutcome,
    authenticate,
    create_admin_user,
)

PASSWORD = "올바른-비밀번호-1"


@pytest.fixture
def frozen() -> clock.FrozenClock:
    fake = clock.FrozenClock(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    previous = clock.clock
    clock.set_clock(fake)
    yield fake  # type: ignore[misc]
    clock.set_clock(previous)


async def test_create_stores_an_argon2_hash(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        user = await create_admin_user(session, username="kim", password=PASSWORD, role="admin")
        await session.commit()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


async def test_head_needs_an_existing_department(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        session.add(Department(name="기획부"))
        await session.flush()
        with pytest.raises(AdminUserError):
            await create_admin_user(session, username="h", password=PASSWORD, role="head")
        with pytest.raises(AdminUserError):
            await create_admin_user(
                session, username="h", password=PASSWORD, role="head", department_name="없는부"
            )
        head = await create_admin_user(
            session, username="h", password=PASSWORD, role="head", department_name="기획부"
        )
        assert head.department_id is not None
        with pytest.raises(AdminUserError):
            await create_admin_user(session, username="h", password=PASSWORD, role="admin")
        with pytest.raises(AdminUserError):
            await create_admin_user(session, username="x", password="short", role="admin")
        with pytest.raises(AdminUserError):
            await create_admin_user(session, username="y", password=PASSWORD, role="root")


async def test_lockout_after_repeated_failures(
    sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    async with sessions() as session:
        await create_admin_user(session, username="kim", password=PASSWORD, role="auditor")
        await session.commit()
    for attempt in range(1, MAX_FAILED_LOGINS + 1):
        async with sessions() as session:
            result = await authenticate(session, username="kim", password="wrong")
            await session.commit()
        expected = (
            LoginOutcome.LOCKED if attempt == MAX_FAILED_LOGINS else LoginOutcome.BAD_CREDENTIALS
        )
        assert result.outcome is expected
    async with sessions() as session:
        assert (await authenticate(session, username="kim", password=PASSWORD)).outcome is (
            LoginOutcome.LOCKED
        )
    frozen.advance(timedelta(minutes=16))
    async with sessions() as session:
        result = await authenticate(session, username="kim", password=PASSWORD)
        await session.commit()
        assert result.outcome is LoginOutcome.OK
        assert result.user is not None and result.user.failed_logins == 0


async def test_unknown_user_is_just_bad_credentials(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        result = await authenticate(session, username="nobody", password=PASSWORD)
        assert result.outcome is LoginOutcome.BAD_CREDENTIALS
        assert await session.get(AdminUser, 1) is None
