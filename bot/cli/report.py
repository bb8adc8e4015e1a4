"""``milchak report``: the weekly department report in the terminal."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import run_with_sessions
from bot.clock import now
from bot.db.models import Department
from bot.services.reports import Week, WeekError, format_report_text, report_csv, weekly_report


@click.group()
def report() -> None:
    """실적 보고서."""


@report.command("weekly")
@click.option("--week", "week_text", default=None, help="ISO 주, 예: 2026-W48 (기본: 지난주)")
@click.option("--department", default=None, help="한 부서만 (부서 이름)")
@click.option("--csv", "as_csv", is_flag=True, help="CSV 로 출력")
def report_weekly(week_text: str | None, department: str | None, as_csv: bool) -> None:
    """Print the weekly department report."""
    try:
        week = Week.parse(week_text) if week_text else Week.containing(now()).previous()
    except WeekError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from exc

    async def _report(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session:
            department_id = None
            if department:
                department_id = await session.scalar(
                    select(Department.id).where(Department.name == department)
                )
                if department_id is None:
                    raise click.ClickException(f"부서를 찾을 수 없습니다: {department}")
            data = await weekly_report(session, week=week, department_id=department_id)
        return report_csv(data) if as_csv else format_report_text(data)

    click.echo(run_with_sessions(_report))
