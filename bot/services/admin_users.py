"""Admin console accounts: argon2 password hashes, sign-in checks and lockout after failures."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.clock import as_utc
from bot.db.models import AdminUser, Department

ROLES = ("admin", "head", "auditor")
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs as much time as a wrong
# password and response timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("milchak-no-such-user")


class AdminUserError(ValueError):
    """A request to create an account that cannot be honoured (message is Korean, for the CLI)."""


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"


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


async def authenticate(session: AsyncSession, *, username: str, password: str) -> LoginResult:
    """Check a sign-in attempt, counting failures and locking the account after too many.

    The caller commits, so the failure count is stored whatever the outcome.
    """
    now = clock.now()
    user = await session.scalar(
        select(AdminUser).where(AdminUser.username == username.strip()).with_for_update()
    )
    if user is None:
        _verify(_DUMMY_HASH, password)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    locked_until = as_utc(user.locked_until)
    if locked_until is not None and locked_until > now:
        return LoginResult(LoginOutcome.LOCKED, locked_until=locked_until)
    if not _verify(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = now + LOCKOUT
            return LoginResult(LoginOutcome.LOCKED, locked_until=user.locked_until)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(LoginOutcome.OK, user=user)
