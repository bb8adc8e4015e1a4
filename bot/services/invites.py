"""One-time invite links that connect an employee's Telegram account to their employee record.

``milchak employee invite ID`` prints ``https://t.me/<bot>?start=emp-<code>``; opening it sends
``/start emp-<code>`` to the bot, which redeems the code for the sender's chat. Codes live 72
hours and work once (claimed with one conditional UPDATE, so two presses cannot both win).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.clock import as_utc
from bot.db.models import Employee, EmployeeInvite

INVITE_TTL = timedelta(hours=72)
START_PREFIX = "emp-"


class InviteOutcome(enum.StrEnum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"  # this chat is already this employee's: harmless repeat
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    CHAT_TAKEN = "chat_taken"  # this Telegram account belongs to another employee


# Korean answers for each outcome (the bot sends these as they are).
INVITE_MESSAGES = {
    InviteOutcome.LINKED: (
        "{name}님, 밀착 직원용 계정이 연결되었습니다.\n"
        "이제 담당 계약자의 요청 알림이 이 대화로 옵니다. /help 로 명령어를 확인하세요."
    ),
    InviteOutcome.ALREADY_LINKED: "{name}님, 이미 연결된 계정입니다. /help 로 명령어를 확인하세요.",
    InviteOutcome.USED: (
        "이미 사용된 초대 링크입니다. 초대 링크는 한 번만 쓸 수 있어요. "
        "관리자에게 새 링크를 요청해 주세요."
    ),
    InviteOutcome.EXPIRED: (
        "초대 링크의 유효기간(72시간)이 지났습니다. 관리자에게 새 링크를 요청해 주세요."
    ),
    InviteOutcome.UNKNOWN: (
        "유효하지 않은 초대 링크입니다. 링크를 다시 확인하거나 관리자에게 문의해 주세요."
    ),
    InviteOutcome.CHAT_TAKEN: (
        "이 텔레그램 계정은 이미 다른 직원({name})에게 연결되어 있습니다. 관리자에게 문의해 주세요."
    ),
}


@dataclass(frozen=True)
class Redemption:
    outcome: InviteOutcome
    employee: Employee | None

    @property
    def message(self) -> str:
        """The Korean answer for the person who opened the link."""
        name = self.employee.name if self.employee else ""
        return INVITE_MESSAGES[self.outcome].format(name=name)


def invite_link(bot_username: str, code: str) -> str:
    """The deep link an employee opens on their phone."""
    return f"https://t.me/{bot_username}?start={START_PREFIX}{code}"


async def create_invite(
    session: AsyncSession, *, employee_id: int, ttl: timedelta = INVITE_TTL
) -> EmployeeInvite:
    """Make a fresh single-use code for the employee (raises LookupError for an unknown id)."""
    if await session.get(Employee, employee_id) is None:
        raise LookupError(employee_id)
    now = clock.now()
    invite = EmployeeInvite(
        code=secrets.token_urlsafe(12),  # 16 chars of [A-Za-z0-9_-]: valid in a /start payload
        employee_id=employee_id,
        expires_at=now + ttl,
        created_at=now,
    )
    session.add(invite)
    await session.flush()
    return invite


async def redeem_invite(session: AsyncSession, *, code: str, chat_id: int) -> Redemption:
    """Link ``chat_id`` to the invite's employee if the code is valid, unused and unexpired."""
    now = clock.now()
    invite = await session.get(EmployeeInvite, code)
    if invite is None:
        return Redemption(InviteOutcome.UNKNOWN, None)
    employee = await session.get(Employee, invite.employee_id)
    if employee is None:
        return Redemption(InviteOutcome.UNKNOWN, None)
    if invite.used_at is not None:
        if employee.telegram_chat_id == chat_id:
            return Redemption(InviteOutcome.ALREADY_LINKED, employee)
        return Redemption(InviteOutcome.USED, employee)
    if as_utc(invite.expires_at) <= now:
        return Redemption(InviteOutcome.EXPIRED, employee)
    holder = await session.scalar(select(Employee).where(Employee.telegram_chat_id == chat_id))
    if holder is not None and holder.id != employee.id:
        return Redemption(InviteOutcome.CHAT_TAKEN, holder)
    claimed = await session.execute(
        update(EmployeeInvite)
        .where(EmployeeInvite.code == code, EmployeeInvite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return Redemption(InviteOutcome.USED, employee)
    employee.telegram_chat_id = chat_id
    employee.telegram_blocked = False
    await session.flush()
    return Redemption(InviteOutcome.LINKED, employee)
