"""Admin console accounts: argon2 password hashes, sign-in checks and lockout after failures."""

from __future__ import annotations

import asyncio
import enum
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.clock import as_utc
from bot.db.engine import session_scope
from bot.db.models import AdminUser, Department
from bot.services import login_throttle
from bot.services.admin_sessions import end_all_sessions

ROLES = ("admin", "head", "auditor")
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Password checks run here, two at a time: each takes ~0.16 s of CPU and 64 MiB, so a burst of
# sign-ins neither stalls the event loop (Telegram shares it) nor eats the machine's memory.
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
# Verified against when the username is unknown, so a wrong name costs as much time as a wrong
# password and response timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("milchak-no-such-user")


class AdminUserError(ValueError):
    """A request to create an account that cannot be honoured (message is Korean, for the CLI)."""


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    THROTTLED = "throttled"  # too many attempts from this address


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: AdminUser | None = None
    locked_until: datetime | None = None


def hash_password(password: str) -> str:
    """Hash ``password`` with argon2id."""
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def create_admin_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    department_name: str | None = None,
) -> AdminUser:
    """Create a console account; a department head must name the department they head."""
    username = username.strip()
    if not username:
        raise AdminUserError("사용자 이름이 비어 있습니다.")
    if role not in ROLES:
        raise AdminUserError(f"역할은 {', '.join(ROLES)} 중 하나여야 합니다.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminUserError(f"비밀번호는 {MIN_PASSWORD_LENGTH}자 이상이어야 합니다.")
    department_id: int | None = None
    if role == "head":
        if not department_name:
            raise AdminUserError("부서장 계정에는 --department 가 필요합니다.")
        department_id = await session.scalar(
            select(Department.id).where(Department.name == department_name)
        )
        if department_id is None:
            raise AdminUserError(f"부서를 찾을 수 없습니다: {department_name}")
    elif department_name:
        raise AdminUserError("--department 는 부서장(head) 계정에만 씁니다.")
    if await session.scalar(select(AdminUser.id).where(AdminUser.username == username)):
        raise AdminUserError(f"이미 있는 사용자 이름입니다: {username}")
    user = AdminUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        department_id=department_id,
        failed_logins=0,
    )
    session.add(user)
    await session.flush()
    return user


async def _check_password(password_hash: str, password: str) -> bool:
    """argon2 in a worker thread: about 0.16 s of CPU that would stall Telegram on the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASHING, _verify, password_hash, password)


async def _reserve(session: AsyncSession, user_id: int, now: datetime) -> int | None:
    """Count this attempt as a failure before the password is checked; the account's count
    afterwards, or None while it is locked.

    One UPDATE, so parallel attempts on SQLite (no row locks) and PostgreSQL each see their own
    number: with 20 at once, only MAX_FAILED_LOGINS ever get their password checked. A lock that
    has run out starts the count again.
    """
    expired = and_(AdminUser.locked_until.is_not(None), AdminUser.locked_until <= now)
    result = await session.execute(
        update(AdminUser)
        .where(
            AdminUser.id == user_id,
            or_(AdminUser.locked_until.is_(None), AdminUser.locked_until <= now),
        )
        .values(
            failed_logins=case((expired, 1), else_=AdminUser.failed_logins + 1),
            locked_until=case((expired, None), else_=AdminUser.locked_until),
        )
        .returning(AdminUser.failed_logins)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def _lock(session: AsyncSession, user_id: int, now: datetime) -> datetime:
    until = now + LOCKOUT
    await session.execute(
        update(AdminUser)
        .where(AdminUser.id == user_id)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    return until


async def authenticate(
    sessions: async_sessionmaker[AsyncSession],
    *,
    username: str,
    password: str,
    address: str = "",
) -> LoginResult:
    """Check a sign-in attempt: per-address throttle, per-account lockout, argon2 off the loop.

    Commits its own short transactions: the attempt is counted and committed before the
    password check, so it counts whatever happens to this request afterwards.
    """
    now = clock.now()
    async with session_scope(sessions) as session:
        attempts = await login_throttle.count_attempt(session, address=address, now=now)
        if attempts > login_throttle.MAX_ATTEMPTS:
            return LoginResult(LoginOutcome.THROTTLED)
        user = await session.scalar(select(AdminUser).where(AdminUser.username == username.strip()))
        count = await _reserve(session, user.id, now) if user is not None else 0
        if user is not None and count is None:
            return LoginResult(LoginOutcome.LOCKED, locked_until=as_utc(user.locked_until))
        if user is not None and count is not None and count > MAX_FAILED_LOGINS:
            # Parallel attempts beyond the allowance: refused without a password check.
            return LoginResult(LoginOutcome.LOCKED, locked_until=await _lock(session, user.id, now))
    if user is None or count is None:
        await _check_password(_DUMMY_HASH, password)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    if not await _check_password(user.password_hash, password):
        if count < MAX_FAILED_LOGINS:
            return LoginResult(LoginOutcome.BAD_CREDENTIALS)
        async with session_scope(sessions) as session:
            return LoginResult(LoginOutcome.LOCKED, locked_until=await _lock(session, user.id, now))
    async with session_scope(sessions) as session:
        await login_throttle.give_back(session, address=address)
        user = await session.get_one(AdminUser, user.id)
        user.failed_logins = 0
        user.locked_until = None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    return LoginResult(LoginOutcome.OK, user=user)


async def change_password(session: AsyncSession, *, username: str, password: str) -> AdminUser:
    """Set a new password and end every session of the account (a copied cookie dies too)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminUserError(f"비밀번호는 {MIN_PASSWORD_LENGTH}자 이상이어야 합니다.")
    user = await session.scalar(select(AdminUser).where(AdminUser.username == username.strip()))
    if user is None:
        raise AdminUserError(f"없는 사용자 이름입니다: {username}")
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    await end_all_sessions(session, user_id=user.id)
    await session.flush()
    return user
