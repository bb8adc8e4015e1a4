"""``milchak seed``: the demo organisation and bulk contact-ledger rows."""

from __future__ import annotations

import sys
import time

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.cli.common import run_with_sessions
from bot.db import session_scope
from bot.demo.policy_history import HistorySummary, seed_policy_history
from bot.demo.seed import (
    FIXED_HOLDERS,
    ContactsSummary,
    SeedError,
    SeedSummary,
    seed_contacts,
    seed_demo,
)


class _ProgressLine:
    """Render ``(step, done, total)`` as one updating line on stderr."""

    def __init__(self) -> None:
        self._last = 0.0
        self._tty = sys.stderr.isatty()

    def __call__(self, step: str, done: int, total: int) -> None:
        finished = done >= total
        now = time.monotonic()
        if not finished and done and now - self._last < (0.2 if self._tty else 5.0):
            return
        self._last = now
        percent = 100 * done // total if total else 100
        line = f"{step}: {done:,}/{total:,} ({percent}%)"
        if self._tty:
            click.echo(f"\r{line}\033[K", nl=finished, err=True)
        else:
            click.echo(line, err=True)


@click.command("seed")
@click.option(
    "--demo", is_flag=True, help="데모 조직(부서 8개, 직원 250명, 계약자 6,250명)을 만듭니다."
)
@click.option("--contacts", type=click.IntRange(min=1), help="접촉 이력 N건을 생성합니다.")
def seed(demo: bool, contacts: int | None) -> None:
    """데모 데이터를 만듭니다."""
    if not demo and contacts is None:
        raise click.UsageError("--demo 또는 --contacts N 중 하나 이상을 지정해 주세요.")
    progress = _ProgressLine()
    try:
        if demo:
            summary, history = run_with_sessions(lambda s: _seed_demo(s, progress))
            _report_demo(summary)
            if history is not None:
                _report_history(history)
        if contacts is not None:
            result = run_with_sessions(lambda s: _seed_contacts(s, contacts, progress))
            _report_contacts(result)
    except SeedError as exc:
        raise click.ClickException(str(exc)) from exc


async def _seed_demo(
    sessions: async_sessionmaker[AsyncSession], progress: _ProgressLine
) -> tuple[SeedSummary, HistorySummary | None]:
    """The organisation and, in the same transaction, its two years of policy history."""
    async with session_scope(sessions) as session:
        today = clock.clock.seoul_now().date()
        summary = await seed_demo(session, progress=progress, today=today)
        if not summary.created:
            return summary, None
        progress("계약 이력 생성", 0, 1)
        history = await seed_policy_history(
            session, today=today, fixed_phones=frozenset(h.phone for h in FIXED_HOLDERS)
        )
        progress("계약 이력 생성", 1, 1)
        return summary, history


async def _seed_contacts(
    sessions: async_sessionmaker[AsyncSession], count: int, progress: _ProgressLine
) -> ContactsSummary:
    async with session_scope(sessions) as session:
        return await seed_contacts(session, count=count, progress=progress)


def _report_demo(summary: SeedSummary) -> None:
    if not summary.created:
        click.echo("데모 데이터가 이미 있습니다. 아무것도 바꾸지 않았습니다.")
        return
    click.echo(
        f"데모 데이터를 만들었습니다: 부서 {summary.departments}개, 직원 {summary.employees:,}명, "
        f"계약자 {summary.policyholders:,}명, 계약 {summary.policies:,}건, "
        f"제휴사 {summary.partners}곳 ({summary.seconds:.1f}초)."
    )


def _report_history(summary: HistorySummary) -> None:
    click.echo(
        f"계약 이력 {summary.events:,}건, 직원 방문·전화 {summary.contacts:,}건을 만들었습니다 "
        f"(지금 보험료 미납으로 유예 기간인 계약 {summary.overdue:,}건, {summary.seconds:.1f}초). "
        "데모의 '연락하면 유지율이 오른다'는 효과는 시뮬레이션에 넣은 가정입니다."
    )


def _report_contacts(summary: ContactsSummary) -> None:
    rate = summary.contacts / summary.seconds if summary.seconds else 0.0
    click.echo(
        f"접촉 이력 {summary.contacts:,}건, 요청 {summary.requests:,}건을 만들었습니다 "
        f"({summary.seconds:.1f}초, 초당 {rate:,.0f}건)."
    )
