"""``milchak assign``: the nearest-25 assignment, shown first, written with ``--apply``."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import run_with_sessions
from bot.db import session_scope
from bot.services import assignment_texts as texts
from bot.services.assignment import (
    DEFAULT_CAPACITY,
    DEFAULT_SWITCH_PENALTY_M,
    AssignmentError,
    AssignmentPlan,
    apply_assignment,
    plan_assignment,
    plan_csv,
    plan_summary,
)


@click.command("assign")
@click.option(
    "--capacity",
    type=click.IntRange(min=1),
    default=DEFAULT_CAPACITY,
    show_default=True,
    help="직원 1인당 최대 계약자 수.",
)
@click.option(
    "--stable",
    is_flag=True,
    help="지금 담당을 최대한 유지합니다 (변경 벌점보다 더 가까워질 때만 바꿉니다).",
)
@click.option(
    "--switch-penalty-km",
    type=click.FloatRange(min=0),
    default=DEFAULT_SWITCH_PENALTY_M / 1000,
    show_default=True,
    help="--stable 에서 담당 변경 한 건의 벌점(km).",
)
@click.option(
    "--leaving",
    multiple=True,
    metavar="EMPLOYEE_NO",
    help="이번 배정에서 빠지는 직원(퇴사·전출)의 사번. 여러 번 쓸 수 있습니다.",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("assignment-plan.csv"),
    show_default=True,
    help="계약자별 배정 결과 CSV.",
)
@click.option("--apply", "apply_", is_flag=True, help="계획을 저장하고 직원에게 알립니다.")
def assign(
    capacity: int,
    stable: bool,
    switch_penalty_km: float,
    leaving: tuple[str, ...],
    csv_path: Path,
    apply_: bool,
) -> None:
    """계약자를 집에서 가장 가까운 직원에게 배정합니다 (기본은 미리보기)."""
    penalty = round(switch_penalty_km * 1000)

    async def _main(sessions: async_sessionmaker[AsyncSession]) -> tuple[AssignmentPlan, int, int]:
        async with session_scope(sessions) as session:
            plan = await plan_assignment(
                session,
                capacity=capacity,
                stable=stable,
                switch_penalty_m=penalty,
                leaving=leaving,
            )
            if not apply_:
                return plan, 0, 0
            run = await apply_assignment(session, plan, operator=getpass.getuser())
            return plan, run.id, int(run.summary["notices"])

    try:
        plan, run_id, notices = run_with_sessions(_main)
    except AssignmentError as exc:
        raise click.ClickException(str(exc)) from exc
    csv_path.write_text("\ufeff" + plan_csv(plan), encoding="utf-8")
    for line in plan_summary(plan):
        click.echo(line)
    click.echo(texts.CSV_WRITTEN.format(path=csv_path))
    if apply_:
        click.echo(texts.APPLIED.format(run=run_id, notices=notices))
    else:
        click.echo(texts.DRY_RUN)
