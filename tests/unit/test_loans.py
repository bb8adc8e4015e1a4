"""The loan rules are checked again where a loan request is opened, whatever the form said."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions import texts
from bot.actions.server import run_action, sender_id_for
from bot.clock import Clock, FrozenClock, set_clock
from bot.db.models import OutboxMessage, Policy, Policyholder, Request
from bot.services.loans import LoanRefused, open_loan
from bot.services.sla import Deadlines
from tests.auxil.employees import Org, build_org, freeze


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


async def _policies(sessions: async_sessionmaker[AsyncSession], org: Org) -> None:
    """이영숙: a cancer policy (limit 8,000,000원) and a lapsed one; someone else's policy."""
    async with sessions() as session:
        other = Policyholder(
            name="한철수",
            phone="01099990000",
            birth_date=date(1970, 1, 1),
            address="인천 연수구",
            area="인천 연수구",
        )
        session.add(other)
        await session.flush()
        common: dict[str, Any] = {
            "premium": 50_000,
            "loan_rate": Decimal("7.50"),
            "deposit_account_masked": "***-****-**3021",
        }
        session.add_all(
            [
                Policy(
                    number="KL-1994-000123",
                    policyholder_id=org.policyholder_id,
                    product="무배당암보험",
                    loan_limit=8_000_000,
                    **common,
                ),
                Policy(
                    number="KL-1990-000007",
                    policyholder_id=org.policyholder_id,
                    product="무배당연금보험",
                    status="lapsed",
                    loan_limit=5_000_000,
                    **common,
                ),
                Policy(
                    number="KL-2001-000999",
                    policyholder_id=other.id,
                    product="무배당종신보험",
                    loan_limit=90_000_000,
                    **common,
                ),
            ]
        )
        await session.commit()


async def _lee(session: AsyncSession, org: Org) -> Policyholder:
    lee = await session.get(Policyholder, org.policyholder_id)
    assert lee is not None
    return lee


@pytest.mark.parametrize(
    ("policy", "amount", "reason"),
    [
        ("KL-1994-000123", 20_000_000, "over_limit"),
        ("KL-1994-000123", 999_999_990_000, "over_limit"),
        ("KL-1994-000123", 90_000, "too_small"),
        ("KL-1994-000123", 1_005_000, "step"),
        ("KL-1994-000123", None, "unreadable"),
        ("KL-1990-000007", 1_000_000, "no_policy"),  # lapsed: no loans
        ("KL-2001-000999", 1_000_000, "no_policy"),  # someone else's policy
        ("KL-0000-000000", 1_000_000, "no_policy"),
    ],
)
async def test_a_loan_that_breaks_a_rule_is_not_opened(
    sessions: async_sessionmaker[AsyncSession], policy: str, amount: int | None, reason: str
) -> None:
    org = await build_org(sessions)
    await _policies(sessions, org)
    async with sessions() as session:
        with pytest.raises(LoanRefused) as refused:
            await open_loan(
                session,
                policyholder=await _lee(session, org),
                policy_number=policy,
                amount=amount,
                deadlines=Deadlines(),
            )
        assert refused.value.problem.reason == reason
        assert await session.scalar(select(func.count(Request.id))) == 0
        assert await session.scalar(select(func.count(OutboxMessage.id))) == 0


async def test_a_loan_within_the_rules_is_opened_once_per_key(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    await _policies(sessions, org)
    async with sessions() as session:
        lee = await _lee(session, org)
        first = await open_loan(
            session,
            policyholder=lee,
            policy_number="KL-1994-000123",
            amount=8_000_000,
            idempotency_key="ph1:loan_form:1.5",
            deadlines=Deadlines(),
        )
        again = await open_loan(
            session,
            policyholder=lee,
            policy_number="KL-1994-000123",
            amount=8_000_000,
            idempotency_key="ph1:loan_form:1.5",
            deadlines=Deadlines(),
        )
        await session.commit()
    assert again.id == first.id
    assert first.kind == "loan" and first.details["amount"] == 8_000_000
    async with sessions() as session:
        assert await session.scalar(select(func.count(Request.id))) == 1
        assert await session.scalar(select(func.count(OutboxMessage.id))) == 1  # one alert


def _submit_tracker(sender: str, slots: dict[str, Any]) -> dict[str, Any]:
    return {
        "sender_id": sender,
        "slots": slots,
        "latest_message": {"text": "네", "intent": {"name": "affirm"}, "entities": []},
        "events": [{"event": "user", "text": "네", "parse_data": {"intent": {"name": "affirm"}}}],
        "active_loop": {},
    }


async def test_a_forged_submit_gets_the_forms_refusal(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await build_org(sessions)
    await _policies(sessions, org)
    slots = {
        "loan_policy": "KL-1994-000123",
        "loan_amount": 999_999_990_000,
        "loan_confirm": True,
    }
    status, body = await run_action(
        sessions,
        {
            "next_action": "action_submit_loan",
            "tracker": _submit_tracker(sender_id_for(org.policyholder_id), slots),
        },
        deadlines=Deadlines(),
    )
    assert status == 200
    said = [r["text"] for r in body["responses"]]
    assert said == [
        texts.LOAN_AMOUNT_OVER_LIMIT.format(product="무배당암보험", limit="8,000,000원"),
        texts.LOAN_NOT_SENT,
    ]
    assert {"event": "slot", "name": "loan_amount", "value": None} in body["events"]
    async with sessions() as session:
        assert await session.scalar(select(func.count(Request.id))) == 0
