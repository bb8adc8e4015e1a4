"""Who is writing? A policyholder proves it with their own phone contact and birth date."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, metrics
from bot.clock import as_utc
from bot.db.models import Policyholder, Verification
from bot.services.phones import normalize_phone

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=30)

_BIRTH_FORMS = (
    re.compile(r"^(?P<yy>\d{2})(?P<m>\d{2})(?P<d>\d{2})$"),  # 620417
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),  # 19620417
    re.compile(r"^(?P<y>\d{4})\s*[-./]\s*(?P<m>\d{1,2})\s*[-./]\s*(?P<d>\d{1,2})\.?$"),
    re.compile(r"^(?P<y>\d{4})\s*년\s*(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일?$"),
)


@dataclass(frozen=True)
class Outcome:
    """Where a Telegram account stands after a verification step."""

    status: str  # need_contact|not_own_contact|unknown_number|need_birth|bad_birth_format|wrong_birth|locked|verified
    policyholder: Policyholder | None = None
    tries_left: int = MAX_FAILURES
    locked_until: datetime | None = None


def parse_birth_date(text: str, today: date) -> date | None:
    """YYMMDD, YYYYMMDD, YYYY-MM-DD (also with dots or 년 월 일)."""
    cleaned = text.strip()
    for form in _BIRTH_FORMS:
        match = form.match(cleaned)
        if not match:
            continue
        parts = match.groupdict()
        if parts.get("yy") is not None:
            yy = int(parts["yy"])
            year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
        else:
            year = int(parts["y"])
        try:
            return date(year, int(parts["m"]), int(parts["d"]))
        except ValueError:
            return None
    return None


async def policyholder_for_telegram(
    session: AsyncSession, telegram_user_id: int
) -> Policyholder | None:
    """The verified policyholder behind a Telegram account, if any."""
    return await session.scalar(
        select(Policyholder).where(
            Policyholder.telegram_user_id == telegram_user_id, Policyholder.verified_at.is_not(None)
        )
    )


async def _state(session: AsyncSession, telegram_user_id: int) -> Verification:
    state = await session.get(Verification, telegram_user_id)
    if state is None:
        state = Verification(telegram_user_id=telegram_user_id, stage="need_contact", failures=0)
        session.add(state)
        await session.flush()
    return state


def _locked(state: Verification, now: datetime) -> bool:
    return state.locked_until is not None and as_utc(state.locked_until) > now


def _fail(state: Verification, now: datetime, status: str) -> Outcome:
    state.failures += 1
    if state.failures >= MAX_FAILURES:
        state.locked_until = now + LOCK_DURATION
        metrics.VERIFICATION_LOCKOUTS.inc()
        state.failures = 0
        state.stage = "need_contact"
        state.policyholder_id = None
        return Outcome("locked", locked_until=state.locked_until, tries_left=0)
    return Outcome(status, tries_left=MAX_FAILURES - state.failures)


async def current(session: AsyncSession, telegram_user_id: int) -> Outcome:
    """Where this account stands now, without changing anything."""
    state = await _state(session, telegram_user_id)
    now = clock.now()
    if _locked(state, now):
        return Outcome("locked", locked_until=state.locked_until, tries_left=0)
    return Outcome(state.stage, tries_left=MAX_FAILURES - state.failures)


async def submit_contact(
    session: AsyncSession, *, telegram_user_id: int, contact_user_id: int | None, phone: str
) -> Outcome:
    """Step 1: the shared contact must be the sender's own, and its number must be on file."""
    state = await _state(session, telegram_user_id)
    now = clock.now()
    if _locked(state, now):
        return Outcome("locked", locked_until=state.locked_until, tries_left=0)
    if contact_user_id != telegram_user_id:
        return _fail(state, now, "not_own_contact")
    first = await session.scalar(
        select(Policyholder)
        .where(Policyholder.phone == normalize_phone(phone))
        .order_by(Policyholder.id)
        .limit(1)
    )
    if first is None:
        return _fail(state, now, "unknown_number")
    # Several policyholders may share a number (a family phone): the birth date decides which
    # one is writing; the state remembers the number through the lowest id.
    state.stage = "need_birth"
    state.policyholder_id = first.id
    return Outcome("need_birth", policyholder=first, tries_left=MAX_FAILURES - state.failures)


async def _sharing_phone_born_on(
    session: AsyncSession, policyholder_id: int, birth: date
) -> Policyholder | None:
    """Among the policyholders with this policyholder's phone number, the first (by id) born
    on ``birth``: the same answer every time, whatever order the database keeps rows in."""
    phone = select(Policyholder.phone).where(Policyholder.id == policyholder_id).scalar_subquery()
    return await session.scalar(
        select(Policyholder)
        .where(Policyholder.phone == phone, Policyholder.birth_date == birth)
        .order_by(Policyholder.id)
        .limit(1)
    )


async def submit_birth_date(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int, text: str
) -> Outcome:
    """Step 2: the birth date must match; then the Telegram account is linked."""
    state = await _state(session, telegram_user_id)
    now = clock.now()
    if _locked(state, now):
        return Outcome("locked", locked_until=state.locked_until, tries_left=0)
    if state.stage != "need_birth" or state.policyholder_id is None:
        return Outcome("need_contact", tries_left=MAX_FAILURES - state.failures)
    birth = parse_birth_date(text, clock.today())
    if birth is None:
        return Outcome("bad_birth_format", tries_left=MAX_FAILURES - state.failures)
    policyholder = await _sharing_phone_born_on(session, state.policyholder_id, birth)
    if policyholder is None:
        return _fail(state, now, "wrong_birth")
    # One Telegram account speaks for one policyholder: release any earlier link.
    await session.execute(
        update(Policyholder)
        .where(
            Policyholder.telegram_user_id == telegram_user_id, Policyholder.id != policyholder.id
        )
        .values(telegram_user_id=None, telegram_chat_id=None, verified_at=None)
    )
    policyholder.telegram_user_id = telegram_user_id
    policyholder.telegram_chat_id = chat_id
    policyholder.verified_at = now
    state.stage = "verified"
    state.policyholder_id = policyholder.id
    state.failures = 0
    await session.flush()
    return Outcome("verified", policyholder=policyholder)
