"""Console accounts: argon2 hashes, roles, lockout after repeated failures (also in parallel),
per-address throttling, server-side sessions ended by a password change."""

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db.engine import session_scope
from bot.db.models import AdminUser, Department
from bot.services import admin_users
from bot.services.admin_sessions import SESSION_LIFETIME, open_session, user_of_session
from bot.services.admin_users import (
    MAX_FAILED_LOGINS,
    AdminUserError,
    LoginOutcome,
    authenticate,
    change_password,
    create_admin_user,
)
from bot.services.login_throttle import MAX_ATTEMPTS, WINDOW

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
        result = await authenticate(sessions, username="kim", password="wrong")
        expected = (
            LoginOutcome.LOCKED if attempt == MAX_FAILED_LOGINS else LoginOutcome.BAD_CREDENTIALS
        )
        assert result.outcome is expected
    assert (await authenticate(sessions, username="kim", password=PASSWORD)).outcome is (
        LoginOutcome.LOCKED
    )
    frozen.advance(timedelta(minutes=16))
    result = await authenticate(sessions, username="kim", password=PASSWORD)
    assert result.outcome is LoginOutcome.OK
    async with sessions() as session:
        user = await session.scalar(select(AdminUser).where(AdminUser.username == "kim"))
        assert user is not None and user.failed_logins == 0 and user.locked_until is None


async def test_unknown_user_is_just_bad_credentials(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = await authenticate(sessions, username="nobody", password=PASSWORD)
    assert result.outcome is LoginOutcome.BAD_CREDENTIALS
    async with sessions() as session:
        assert await session.get(AdminUser, 1) is None


@pytest.mark.postgres
async def test_parallel_wrong_passwords_lock_the_account(
    sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    """20 guesses at once: each is counted atomically, only the allowance is ever checked."""
    async with sessions() as session:
        await create_admin_user(session, username="kim", password=PASSWORD, role="admin")
        await session.commit()
    results = await asyncio.gather(
        *(
            authenticate(sessions, username="kim", password=f"guess-{n}", address=f"10.0.0.{n}")
            for n in range(20)
        )
    )
    outcomes = [r.outcome for r in results]
    assert outcomes.count(LoginOutcome.BAD_CREDENTIALS) == MAX_FAILED_LOGINS - 1
    assert outcomes.count(LoginOutcome.LOCKED) == 20 - (MAX_FAILED_LOGINS - 1)
    result = await authenticate(sessions, username="kim", password=PASSWORD)
    assert result.outcome is LoginOutcome.LOCKED
    async with sessions() as session:
        user = await session.scalar(select(AdminUser).where(AdminUser.username == "kim"))
        assert user is not None and user.locked_until is not None


@pytest.fixture
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its lowest cost: the tests that sign in dozens of times check the throttle,
    not the hash (the production parameters cost ~0.16 s a check)."""
    monkeypatch.setattr(
        admin_users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.mark.postgres
@pytest.mark.usefixtures("cheap_hashes")
async def test_one_address_is_throttled_across_accounts(
    sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    async with sessions() as session:
        for n in range(8):
            await create_admin_user(session, username=f"user{n}", password=PASSWORD, role="admin")
        await session.commit()
    sprayer = "203.0.113.9"
    # A few guesses on every account, never enough to lock any of them.
    outcomes = [
        (
            await authenticate(sessions, username=f"user{n % 8}", password="spray", address=sprayer)
        ).outcome
        for n in range(MAX_ATTEMPTS)
    ]
    assert set(outcomes) == {LoginOutcome.BAD_CREDENTIALS}
    refused = await authenticate(sessions, username="user0", password=PASSWORD, address=sprayer)
    assert refused.outcome is LoginOutcome.THROTTLED  # even with the right password
    elsewhere = await authenticate(
        sessions, username="user0", password=PASSWORD, address="198.51.100.7"
    )
    assert elsewhere.outcome is LoginOutcome.OK
    frozen.advance(WINDOW)
    later = await authenticate(sessions, username="user0", password=PASSWORD, address=sprayer)
    assert later.outcome is LoginOutcome.OK


@pytest.mark.usefixtures("cheap_hashes")
async def test_successful_sign_ins_do_not_use_up_the_address(
    sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    async with sessions() as session:
        await create_admin_user(session, username="kim", password=PASSWORD, role="admin")
        await session.commit()
    for _ in range(MAX_ATTEMPTS + 5):
        result = await authenticate(sessions, username="kim", password=PASSWORD, address="office")
        assert result.outcome is LoginOutcome.OK


async def test_password_is_checked_off_the_event_loop(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 (~0.16 s each) runs in a worker thread, not on the loop Telegram shares."""
    async with sessions() as session:
        await create_admin_user(session, username="kim", password=PASSWORD, role="admin")
        await session.commit()
    threads: list[int] = []
    verify = admin_users._verify

    def recording_verify(password_hash: str, password: str) -> bool:
        threads.append(threading.get_ident())
        return verify(password_hash, password)

    monkeypatch.setattr(admin_users, "_verify", recording_verify)
    await authenticate(sessions, username="kim", password=PASSWORD)
    await authenticate(sessions, username="nobody", password=PASSWORD)
    assert len(threads) == 2
    assert threading.get_ident() not in threads


async def test_password_change_ends_every_session(
    sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    async with session_scope(sessions) as session:
        user = await create_admin_user(session, username="kim", password=PASSWORD, role="admin")
        tokens = [await open_session(session, user_id=user.id, now=frozen.now()) for _ in range(2)]
    async with session_scope(sessions) as session:
        assert await user_of_session(session, tokens[0], now=frozen.now()) is not None
        with pytest.raises(AdminUserError):
            await change_password(session, username="kim", password="short")
        await change_password(session, username="kim", password="새-비밀번호-2345")
    async with sessions() as session:
        for token in tokens:
            assert await user_of_session(session, token, now=frozen.now()) is None
    assert (await authenticate(sessions, username="kim", password=PASSWORD)).outcome is (
        LoginOutcome.BAD_CREDENTIALS
    )
    assert (await authenticate(sessions, username="kim", password="새-비밀번호-2345")).outcome is (
        LoginOutcome.OK
    )


async def test_sessions_expire_after_eight_hours(
    sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    async with session_scope(sessions) as session:
        user = await create_admin_user(session, username="kim", password=PASSWORD, role="admin")
        token = await open_session(session, user_id=user.id, now=frozen.now())
    frozen.advance(SESSION_LIFETIME - timedelta(seconds=1))
    async with sessions() as session:
        assert await user_of_session(session, token, now=frozen.now()) is not None
    frozen.advance(timedelta(seconds=1))
    async with sessions() as session:
        assert await user_of_session(session, token, now=frozen.now()) is None
