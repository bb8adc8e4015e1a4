"""``milchak import policy-events``: new policies with their history, every rejection with its
line number, all or nothing, re-import changes nothing, policies recomputed from their events."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.cli import main
from bot.config import get_settings
from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade
from bot.db.models import Department, Employee, Policy, PolicyEvent, Policyholder
from bot.services.policy_import import PolicyEventsResult, import_policy_events

HEADER = (
    "policy_number,event,date,paid_through,policyholder_phone,product,contract_date,"
    "payment_cycle,premium,note\n"
)
GOOD = HEADER + (
    'KL-2025-000001,정상,2025-01-15,1,010-5512-3087,무배당암보험,2025-01-15,월납,"42,000",신계약\n'
    "KL-2025-000001,미납,2025-06-15,5,,,,,,\n"
    "KL-2025-000001,실효,2025-08-01,5,,,,,,\n"
    "KL-2025-000001,부활,2025-09-20,8,,,,,,재청약\n"
    "KL-2025-000002,normal,2025-02-01,1,01022334455,종신보험,20250201,annual,1200000,\n"
    "KL-2025-000002,미납,2026-02-01,1,,,,,,\n"
)
TODAY = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> object:
    real = clock.clock
    clock.set_clock(clock.FrozenClock(TODAY))
    yield
    clock.set_clock(real)


async def _holders(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s:
        dept = Department(name="기획부")
        s.add(dept)
        await s.flush()
        emp = Employee(name="김영환", title="기획부장", department_id=dept.id, home_area="인천")
        s.add(emp)
        await s.flush()
        for name, phone in (("이영숙", "01055123087"), ("정민수", "01022334455")):
            s.add(
                Policyholder(
                    name=name, phone=phone, birth_date=date(1962, 4, 17), address="인천",
                    area="인천", employee_id=emp.id,
                )
            )  # fmt: skip
        await s.commit()


async def _import(sessions: async_sessionmaker[AsyncSession], text: str) -> PolicyEventsResult:
    async with sessions() as session:
        result = await import_policy_events(session, text=text)
        if result.ok:
            await session.commit()
        return result


async def test_new_policies_and_their_history(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _holders(sessions)
    result = await _import(sessions, GOOD)
    assert result.ok, result.errors
    assert (result.events_added, result.policies_created, result.policies_recomputed) == (6, 2, 2)
    async with sessions() as session:
        policies = {p.number: p for p in await session.scalars(select(Policy))}
        kinds = list(
            await session.scalars(
                select(PolicyEvent.kind)
                .join(Policy, Policy.id == PolicyEvent.policy_id)
                .where(Policy.number == "KL-2025-000001")
                .order_by(PolicyEvent.occurred_on)
            )
        )
    cancer, life = policies["KL-2025-000001"], policies["KL-2025-000002"]
    assert kinds == ["normal", "unpaid", "lapsed", "reinstated"]
    assert (cancer.premium, cancer.payment_cycle, cancer.contract_date) == (
        42_000, "monthly", date(2025, 1, 15),
    )  # fmt: skip
    # Reinstated with 8 paid; by 2026-03-10 the 15th installment (due 2026-03-15) is not due
    # yet, so 14 are paid and the next is due on 2026-03-15.
    assert (cancer.status, cancer.paid_installments, cancer.next_due_date) == (
        "active", 14, date(2026, 3, 15),
    )  # fmt: skip
    # The annual policy missed its second premium on 2026-02-01: overdue since then.
    assert (life.payment_cycle, life.status, life.paid_installments, life.next_due_date) == (
        "annual", "active", 1, date(2026, 2, 1),
    )  # fmt: skip

    again = await _import(sessions, GOOD)
    assert (again.events_added, again.events_skipped, again.policies_created) == (0, 6, 0)

    later = HEADER + "KL-2025-000002,해지,2026-03-05,1,,,,,,고객 요청\n"
    assert (await _import(sessions, later)).ok
    async with sessions() as session:
        life_now = await session.scalar(select(Policy).where(Policy.number == "KL-2025-000002"))
    assert life_now is not None and (life_now.status, life_now.next_due_date) == (
        "surrendered", None,
    )  # fmt: skip


async def test_every_rejection_with_its_line_and_nothing_written(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _holders(sessions)
    bad = HEADER + (
        "KL-1,정상,2025-01-15,1,010-5512-3087,암보험,2025-01-15,월납,42000,\n"  # 2: fine
        "KL-1,만료,2025-02-15,,,,,,,\n"  # 3: unknown status
        "KL-1,미납,2025-03-15,,,,,,,\n"  # 4: 미납 without paid_through
        "KL-1,정상,2027-01-01,3,,,,,,\n"  # 5: in the future
        "KL-1,정상,2024-12-31,1,,,,,,\n"  # 6: before the contract
        "KL-2,정상,2025-01-01,1,010-9999-0000,암보험,2025-01-01,격월납,0,\n"  # 7: three problems
        "KL-3,정상,2025-01-01,1,,,,,,\n"  # 8: new policy without master data
        "KL-1,정상,2025-01-15,1,,,,,,\n"  # 9: same as line 2
        "KL-1,정상,2025-04-15,4,,종신보험,,,,\n"  # 10: product differs from line 2
        ",정상,2025-01-15,1,,,,,,\n"  # 11: no policy number
    )
    result = await _import(sessions, bad)
    lines = sorted({e.line for e in result.errors})
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    text = "\n".join(str(e) for e in result.errors)
    assert "3행: 알 수 없는 상태입니다: '만료'" in text
    assert "4행: '미납' 행에는 납입 회차(paid_through)가 필요합니다." in text
    assert "5행: 일자이(가) 올바른 범위가 아닙니다" in text
    assert "6행: 일자 2024-12-31이(가) 계약일 2025-01-15보다 빠릅니다." in text
    assert "7행: 알 수 없는 납입 주기입니다: '격월납'" in text
    assert "7행: 회차 보험료은(는) 1 이상의 정수여야 합니다" in text
    assert "7행: 전화번호 010-9999-0000인 계약자가 없습니다" in text
    assert (
        "8행: 새 증권번호 KL-3에는 계약자 전화번호, 상품명, 계약일, 납입 주기, 회차 보험료" in text
    )
    assert "9행: 같은 계약·일자·상태의 행이 2행에도 있습니다." in text
    assert "10행: 증권번호 KL-1의 상품명이(가) 2행과 다릅니다." in text
    assert "11행: 증권번호이(가) 비어 있습니다." in text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Policy)) == 0
        assert await session.scalar(select(func.count()).select_from(PolicyEvent)) == 0

    header_only = await _import(sessions, "policy_number,event,when\n")
    assert [str(e) for e in header_only.errors] == [
        "1행: 필수 열이 없습니다: date",
        "1행: 알 수 없는 열입니다: when",
    ]


def test_cli_policy_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MILCHAK_DATABASE_URL", url)
    get_settings.cache_clear()

    async def _prepare() -> None:
        engine, sessions = create_engine_and_sessions(url)
        await upgrade(engine)
        await _holders(sessions)
        await engine.dispose()

    asyncio.run(_prepare())
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("\ufeff" + GOOD, encoding="utf-8")
    bad.write_text(HEADER + "KL-9,정상,2025-01-01,1,,,,,,\n", encoding="utf-8")
    runner = CliRunner()
    try:
        ok = runner.invoke(main, ["import", "policy-events", str(good)])
        refused = runner.invoke(main, ["import", "policy-events", str(bad)])
    finally:
        get_settings.cache_clear()
    assert ok.exit_code == 0, ok.output
    assert "계약 이력 6건을 추가했습니다" in ok.output and "새 계약 2건" in ok.output
    assert refused.exit_code == 1
    assert "2행: 새 증권번호 KL-9에는" in refused.output
    assert "오류 1건이 있어 파일의 어떤 행도 저장하지 않았습니다." in refused.output
