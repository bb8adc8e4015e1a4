"""``milchak report``: the weekly department report in the terminal, and its Telegram digest."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import run_with_sessions
from bot.clock import SEOUL, now
from bot.db.engine import session_scope
from bot.db.models import Department, PolicyEvent
from bot.services.persistency import PersistencyReport, persistency_report
from bot.services.persistency import report_csv_rows as persistency_csv_rows
from bot.services.persistency_text import format_persistency_text
from bot.services.policy_history import add_months
from bot.services.reports import Week, WeekError, format_report_text, weekly_report
from bot.services.reports import report_csv as weekly_csv
from bot.services.retention import retention_outcomes
from bot.services.survival import analyse, load_lives
from bot.services.weekly_digest import DigestOutcome, Status, queue_weekly_digests

WEEK_HELP = "ISO 주, 예: 2026-W48 (기본: 지난주)"
DEPARTMENT_HELP = "한 부서만 (부서 이름)"
OUTCOME_TEXTS = {
    Status.QUEUED: "{head}님께 보낼 주간 실적을 발송 대기열에 넣었습니다.",
    Status.ALREADY: "이 주의 주간 실적은 이미 {state} 다시 보내지 않습니다.",
    Status.NO_HEAD: "부서장이 지정되어 있지 않아 보내지 않았습니다.",
    Status.NOT_LINKED: (
        "{head}님의 텔레그램이 연결되어 있지 않아 보내지 않았습니다. "
        "`milchak employee invite {head_id}` 로 초대 링크를 만들 수 있습니다."
    ),
    Status.BLOCKED: "{head}님이 봇을 차단해 보내지 않았습니다.",
}
ALREADY_STATES = {
    "sent": "보냈으므로",
    "failed": "보내려다 실패했으므로(발송 기록을 확인해 주세요)",
}
ALREADY_QUEUED = "발송 대기 중이므로"
QUEUED_FOOTER = "대기열의 메시지는 실행 중인 밀착 앱(milchak run)이 텔레그램으로 보냅니다."
NO_DEPARTMENTS = "부서가 없습니다."
UNFINISHED = "{week} 주는 아직 끝나지 않았습니다. 끝난 주의 실적만 보낼 수 있습니다."


def _week(week_text: str | None) -> Week:
    try:
        return Week.parse(week_text) if week_text else Week.containing(now()).previous()
    except WeekError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from exc


async def _department_id(session: AsyncSession, name: str | None) -> int | None:
    if not name:
        return None
    department_id = await session.scalar(select(Department.id).where(Department.name == name))
    if department_id is None:
        raise click.ClickException(f"부서를 찾을 수 없습니다: {name}")
    return department_id


@click.group()
def report() -> None:
    """실적 보고서."""


@report.command("weekly")
@click.option("--week", "week_text", default=None, help=WEEK_HELP)
@click.option("--department", default=None, help=DEPARTMENT_HELP)
@click.option("--csv", "as_csv", is_flag=True, help="CSV 로 출력")
def report_weekly(week_text: str | None, department: str | None, as_csv: bool) -> None:
    """Print the weekly department report."""
    week = _week(week_text)

    async def _report(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session:
            department_id = await _department_id(session, department)
            data = await weekly_report(session, week=week, department_id=department_id)
        return weekly_csv(data) if as_csv else format_report_text(data)

    click.echo(run_with_sessions(_report))


def outcome_line(outcome: DigestOutcome) -> str:
    """One Korean line per department for ``send-weekly``."""
    state = ALREADY_STATES.get(outcome.outbox_status or "", ALREADY_QUEUED)
    text = OUTCOME_TEXTS[outcome.status].format(
        head=outcome.head, head_id=outcome.head_id, state=state
    )
    return f"{outcome.department}: {text}"


@report.command("send-weekly")
@click.option("--week", "week_text", default=None, help=WEEK_HELP)
@click.option("--department", default=None, help=DEPARTMENT_HELP)
def report_send_weekly(week_text: str | None, department: str | None) -> None:
    """Queue the weekly digest for department heads on Telegram (once per department and week)."""
    week = _week(week_text)
    if week.end > now():
        # The Monday job would then find this week already sent and skip the full figures.
        raise click.ClickException(UNFINISHED.format(week=week.label))

    async def _send(sessions: async_sessionmaker[AsyncSession]) -> list[DigestOutcome]:
        async with session_scope(sessions) as session:
            department_id = await _department_id(session, department)
            return await queue_weekly_digests(session, week=week, department_id=department_id)

    outcomes = run_with_sessions(_send)
    click.echo(f"{week.label} 주간 실적 텔레그램 발송")
    for outcome in outcomes:
        click.echo(outcome_line(outcome))
    if not outcomes:
        click.echo(NO_DEPARTMENTS)
    if any(o.status == Status.QUEUED for o in outcomes):
        click.echo(QUEUED_FOOTER)


@report.command("persistency")
@click.option("--as-of", "as_of_text", default=None, help="기준일 YYYY-MM-DD (기본: 오늘)")
@click.option("--department", default=None, help="한 부서만, 직원별로 (부서 이름)")
@click.option("--product", default=None, help="한 상품만 (상품명)")
@click.option("--cohort", default=None, help="한 계약월만, YYYY-MM (기본: 최근 12개월 코호트)")
@click.option("--csv", "as_csv", is_flag=True, help="CSV 로 출력 (유지율 표만)")
@click.option(
    "--survival/--no-survival", default=True, help="생존 분석(연락과 유지)도 계산 (몇 초 걸림)"
)
def report_persistency(
    as_of_text: str | None,
    department: str | None,
    product: str | None,
    cohort: str | None,
    as_csv: bool,
    survival: bool,
) -> None:
    """Print 13/25회차 persistency, the contact survival analysis and prevented lapses."""
    try:
        as_of = date.fromisoformat(as_of_text) if as_of_text else now().astimezone(SEOUL).date()
        cohort_month = date.fromisoformat(f"{cohort}-01") if cohort else None
    except ValueError as exc:
        raise click.BadParameter(f"날짜 형식이 올바르지 않습니다: {exc}") from exc

    async def _report(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session:
            department_id = await _department_id(session, department)
            data = await persistency_report(
                session,
                as_of=as_of,
                department_id=department_id,
                product=product,
                cohort_month=cohort_month,
            )
            if as_csv:
                return report_csv(data)
            window = data.window.previous_month()
            before = await persistency_report(
                session,
                as_of=window.as_of,
                department_id=department_id,
                product=product,
                cohort_month=cohort_month,
            )
            top = before.departments[0].figures if department_id else before.company
            analysis = None
            if survival:
                lives = await load_lives(
                    session, as_of=as_of, department_id=department_id, product=product
                )
                analysis = analyse(lives, as_of=as_of)
            outcomes = await retention_outcomes(
                session,
                since=datetime.combine(add_months(as_of, -12), time(), SEOUL),
                until=datetime.combine(as_of + timedelta(days=1), time(), SEOUL),
                department_id=department_id,
            )
            demo = await session.scalar(
                select(PolicyEvent.id).where(PolicyEvent.source == "seed").limit(1)
            )
        return format_persistency_text(
            data,
            previous=top.rates,
            survival=analysis,
            outcomes=outcomes,
            demo=demo is not None,
            by_employee=department_id is not None,
        )

    click.echo(run_with_sessions(_report), nl=False)


def report_csv(data: PersistencyReport) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(persistency_csv_rows(data))
    return buffer.getvalue()
