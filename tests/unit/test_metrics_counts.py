"""The business counters move where the business events happen: requests opened, SLA breaches,
verification lockouts (the e2e supervision test covers messages, turns and Rasa)."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, FrozenClock, set_clock
from bot.db import session_scope
from bot.metrics import REGISTRY
from bot.services import verification
from bot.services.escalation import escalate_due
from bot.services.sla import Deadlines
from bot.services.verification import MAX_FAILURES
from tests.auxil.employees import build_org, freeze, new_request


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_requests_and_sla_breaches_are_counted_by_kind(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    opened = sample("milchak_requests_opened_total", kind="funeral")
    breaches = sample("milchak_sla_breaches_total", kind="funeral")
    org = await build_org(sessions)
    await new_request(sessions, org, kind="funeral", summary="부친상")
    assert sample("milchak_requests_opened_total", kind="funeral") == opened + 1
    async with session_scope(sessions) as session:
        assert (
            await escalate_due(session, now=frozen.now(), deadlines=Deadlines()) == 0
        )  # not due yet
    assert sample("milchak_sla_breaches_total", kind="funeral") == breaches
    frozen.advance(timedelta(hours=1))
    async with session_scope(sessions) as session:
        assert (
            await escalate_due(session, now=frozen.now(), deadlines=Deadlines()) == 1
        )  # to the deputy
    assert sample("milchak_sla_breaches_total", kind="funeral") == breaches + 1


async def test_a_verification_lockout_is_counted_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    before = sample("milchak_verification_lockouts_total")
    async with session_scope(sessions) as session:
        for attempt in range(MAX_FAILURES):
            outcome = await verification.submit_contact(
                session, telegram_user_id=77, contact_user_id=78, phone="010-0000-0000"
            )
            assert sample("milchak_verification_lockouts_total") == before + (
                1 if attempt == MAX_FAILURES - 1 else 0
            )
        assert outcome.status == "locked"
        again = await verification.submit_contact(
            session, telegram_user_id=77, contact_user_id=78, phone="010-0000-0000"
        )
        assert again.status == "locked"
    assert sample("milchak_verification_lockouts_total") == before + 1
