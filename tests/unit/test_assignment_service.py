"""`milchak assign`: the plan from the database, the dry run, --apply with its audit record and the
employees' Telegram notices in the outbox, --stable when someone leaves."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.config import get_settings
from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade
from bot.db.models import (
    AssignmentChange,
    AssignmentRun,
    Department,
    Employee,
    OutboxMessage,
    Policyholder,
)
from bot.services.assignment import (
    AssignmentError,
    apply_assignment,
    plan_assignment,
    plan_csv,
    plan_summary,
)

# Three employees along a line in 인천 남동구, about 1.1 km apart; three policyholders at each home.
HOMES = {"E1": (37.4500, 126.7200), "E2": (37.4500, 126.7325), "E3": (37.4500, 126.7450)}
CHATS = {"E1": 800001, "E2": 800002, "E3": None}  # 윤동현 (E3) has no Telegram


async def _organisation(session: AsyncSession) -> dict[str, int]:
    """The organisation, every policyholder wrongly with E1; returns employee ids by number."""
    dept = Department(name="기획부")
    session.add(dept)
    await session.flush()
    names = {"E1": "김영환", "E2": "박민수", "E3": "윤동현"}
    employees = {}
    for no, (lat, lon) in HOMES.items():
        e = Employee(
            employee_no=no,
            name=names[no],
            title="대리",
            department_id=dept.id,
            home_area="인천 남동구",
            home_lat=lat,
            home_lon=lon,
            telegram_chat_id=CHATS[no],
        )
        session.add(e)
        employees[no] = e
    await session.flush()
    for i, (lat, lon) in enumerate(HOMES.values()):
        for j in range(3):
            session.add(
                Policyholder(
                    name=f"계약자{i}{j}",
                    phone=f"0107000{i}{j:03d}",
                    birth_date=date(1960, 1, 1 + j),
                    address=f"인천 남동구 만수동 {i}{j}",
                    area="인천 남동구",
                    lat=lat + 0.0005 * (j + 1),
                    lon=lon,
                    employee_id=employees["E1"].id,
                )
            )
    session.add(  # no coordinates: reported and left alone
        Policyholder(
            name="주소미상",
            phone="01070009999",
            birth_date=date(1970, 1, 1),
            address="알 수 없음",
            area="",
            employee_id=employees["E2"].id,
        )
    )
    await session.commit()
    return {no: e.id for no, e in employees.items()}


async def _owners(session: AsyncSession) -> dict[str, int | None]:
    rows = await session.execute(select(Policyholder.name, Policyholder.employee_id))
    return dict(rows.tuples().all())


async def test_plan_apply_audit_and_notices(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        ids = await _organisation(session)

    async with sessions() as session:
        plan = await plan_assignment(session, capacity=3)
        # Planning writes nothing.
        assert set((await _owners(session)).values()) == {ids["E1"], ids["E2"]}

    # Everyone goes to the employee they live next to: six of nine change employee.
    by_name = {h.name: plan.employee_ids[i] for i, h in enumerate(plan.holders)}
    for i, no in enumerate(HOMES):
        assert {by_name[f"계약자{i}{j}"] for j in range(3)} == {ids[no]}
    assert len(plan.changed) == 6 and plan.unlocated_holders == 1
    assert max(plan.distances_m) < 200  # each lives 55-170 m from their employee
    rows = list(csv.DictReader(io.StringIO(plan_csv(plan))))
    assert len(rows) == 9 and {r["changed"] for r in rows} == {"Y", "N"}
    moved = next(r for r in rows if r["name"] == "계약자20")
    assert (moved["employee_no_before"], moved["employee_no_after"]) == ("E1", "E3")
    assert moved["employee_after"] == "윤동현 대리" and float(moved["distance_km"]) < 0.2
    summary = "\n".join(plan_summary(plan))
    assert "계약자 9명 → 직원 3명" in summary
    assert "담당 직원이 바뀌는 계약자: 6명 (66.7%)" in summary
    assert "기획부 / 3 / 9 /" in summary
    assert "좌표가 없는 계약자 1명" in summary

    async with sessions() as session:
        run = await apply_assignment(session, plan, operator="tester")
        await session.commit()

    async with sessions() as session:
        owners = await _owners(session)
        stored_run = await session.get(AssignmentRun, run.id)
        changes = list(await session.scalars(select(AssignmentChange)))
        outbox = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.chat_id)))
    assert owners["계약자10"] == ids["E2"] and owners["계약자22"] == ids["E3"]
    assert owners["주소미상"] == ids["E2"]  # untouched
    assert stored_run is not None
    assert (stored_run.mode, stored_run.changed, stored_run.operator) == ("full", 6, "tester")
    assert stored_run.total_m == plan.total_m and stored_run.summary["notices"] == 2
    assert len(changes) == 6 and {c.from_employee_id for c in changes} == {ids["E1"]}
    assert {c.to_employee_id for c in changes} == {ids["E2"], ids["E3"]}

    # E1 loses six, E2 gains three; E3 gains three but has no Telegram: no message.
    assert [m.chat_id for m in outbox] == [800001, 800002]
    assert all(m.purpose == "assignment" and m.status == "pending" for m in outbox)
    to_kim, to_park = outbox[0].text, outbox[1].text
    assert "새로 맡는 계약자 0명, 다른 직원에게 넘어가는 계약자 6명" in to_kim
    assert "· 계약자20님 → 윤동현 대리" in to_kim and "· 계약자10님 → 박민수 대리" in to_kim
    assert "새로 맡는 계약자 3명, 다른 직원에게 넘어가는 계약자 0명" in to_park
    assert "· 계약자10님 — 인천 남동구 만수동 10 (0.1 km)" in to_park


async def test_stable_moves_only_the_leavers_people(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        ids = await _organisation(session)
        await apply_assignment(session, await plan_assignment(session, capacity=3), operator="t")
        await session.commit()

    async with sessions() as session:
        with pytest.raises(AssignmentError, match="--capacity 5 이상"):
            await plan_assignment(session, capacity=4, stable=True, leaving=["E2"])
        with pytest.raises(AssignmentError, match="알 수 없는 사번입니다: E9"):
            await plan_assignment(session, capacity=5, leaving=["E9"])
        # E2 leaves; from scratch with room for 5 each the middle is split, stable keeps pairs.
        scratch = await plan_assignment(session, capacity=5, leaving=["E2"])
        stable = await plan_assignment(session, capacity=5, stable=True, leaving=["E2"])

    assert stable.mode == "stable" and stable.switch_penalty_m == 10_000
    moved = {stable.holders[i].name for i in stable.changed}
    assert moved == {"계약자10", "계약자11", "계약자12"}
    assert len(scratch.changed) >= len(stable.changed)
    assert ids["E2"] not in stable.employee_ids
    assert "배정에서 빠지는 직원: E2" in "\n".join(plan_summary(stable))


def test_cli_dry_run_then_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'assign.db'}"
    monkeypatch.setenv("MILCHAK_DATABASE_URL", url)
    get_settings.cache_clear()

    async def _prepare() -> None:
        engine, sessions = create_engine_and_sessions(url)
        await upgrade(engine)
        async with sessions() as session:
            await _organisation(session)
        await engine.dispose()

    async def _state() -> tuple[int, int]:
        engine, sessions = create_engine_and_sessions(url)
        async with sessions() as session:
            runs = await session.scalar(select(func.count()).select_from(AssignmentRun))
            queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
        await engine.dispose()
        return int(runs or 0), int(queued or 0)

    asyncio.run(_prepare())
    plan_file = tmp_path / "plan.csv"
    runner = CliRunner()
    try:
        dry = runner.invoke(main, ["assign", "--capacity", "3", "--csv", str(plan_file)])
        assert dry.exit_code == 0, dry.output
        assert "미리보기입니다" in dry.output and "담당 직원이 바뀌는 계약자: 6명" in dry.output
        assert plan_file.read_text(encoding="utf-8").startswith("\ufeffpolicyholder_id,")
        assert asyncio.run(_state()) == (0, 0)

        tight = runner.invoke(main, ["assign", "--capacity", "2", "--csv", str(plan_file)])
        assert tight.exit_code == 1 and "--capacity 3 이상" in tight.output

        applied = runner.invoke(
            main, ["assign", "--capacity", "3", "--apply", "--csv", str(plan_file)]
        )
        assert applied.exit_code == 0, applied.output
        assert "배정을 저장했습니다" in applied.output and "직원 2명에게" in applied.output
        assert asyncio.run(_state()) == (1, 2)

        again = runner.invoke(
            main, ["assign", "--capacity", "3", "--stable", "--csv", str(plan_file)]
        )
        assert "담당 직원이 바뀌는 계약자: 0명" in again.output
    finally:
        get_settings.cache_clear()
