"""A small organisation for employee-workspace tests: one department, a chain, a policyholder."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FrozenClock, set_clock
from bot.db.models import Department, Employee, Policyholder, Request
from bot.services.requests import open_request
from bot.services.sla import Deadlines

OWNER_CHAT = 900002
DEPUTY_CHAT = 900003
HEAD_CHAT = 900001
PH_CHAT = 555001
# A Tuesday, 10:00 in Seoul.
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


@dataclass
class Org:
    head_id: int
    owner_id: int
    deputy_id: int
    policyholder_id: int


def freeze(at: datetime = T0) -> FrozenClock:
    """Install and return a frozen clock."""
    frozen = FrozenClock(at)
    set_clock(frozen)
    return frozen


async def build_org(sessions: async_sessionmaker[AsyncSession], *, link: bool = True) -> Org:
    """기획부: head 김영환 기획부장, owner 박민수 대리 whose deputy is 최지영 과장; 이영숙."""
    async with sessions() as session:
        dept = Department(name="기획부")
        session.add(dept)
        await session.flush()
        head = Employee(
            name="김영환",
            title="기획부장",
            department_id=dept.id,
            home_area="인천 남동구",
            is_head=True,
            telegram_chat_id=HEAD_CHAT if link else None,
        )
        deputy = Employee(
            name="최지영",
            title="과장",
            department_id=dept.id,
            home_area="인천 남동구",
            telegram_chat_id=DEPUTY_CHAT if link else None,
        )
        session.add_all([head, deputy])
        await session.flush()
        owner = Employee(
            name="박민수",
            title="대리",
            department_id=dept.id,
            home_area="인천 남동구",
            deputy_id=deputy.id,
            telegram_chat_id=OWNER_CHAT if link else None,
        )
        session.add(owner)
        await session.flush()
        ph = Policyholder(
            name="이영숙",
            phone="01055123087",
            birth_date=date(1962, 4, 17),
            address="인천 남동구 만수동 주공아파트",
            area="인천 남동구",
            employee_id=owner.id,
            telegram_user_id=PH_CHAT,
            telegram_chat_id=PH_CHAT,
            verified_at=T0,
        )
        session.add(ph)
        await session.commit()
        return Org(head.id, owner.id, deputy.id, ph.id)


async def new_request(
    sessions: async_sessionmaker[AsyncSession],
    org: Org,
    *,
    kind: str = "loan",
    summary: str = "약관대출 3,000,000원 신청 (KL-1994-000123)",
) -> Request:
    """Open a request for 이영숙 through the real service and commit it."""
    async with sessions() as session:
        ph = await session.get(Policyholder, org.policyholder_id)
        assert ph is not None
        request = await open_request(
            session, policyholder=ph, kind=kind, summary=summary, deadlines=Deadlines()
        )
        await session.commit()
        return request
