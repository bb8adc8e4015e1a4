"""``milchak import``: employees and policyholders from CSV, all rows or none."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import run_with_sessions
from bot.services.importer import (
    ImportFileError,
    ImportResult,
    decode_csv,
    import_employees,
    import_policyholders,
)
from bot.services.policy_import import PolicyEventsResult, import_policy_events

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("import")
def import_group() -> None:
    """CSV 파일에서 직원·계약자 데이터를 가져옵니다 (형식: docs/import.md)."""


@import_group.command("employees")
@click.argument("file", type=_FILE)
@click.option("--create-departments", is_flag=True, help="파일에 있는 새 부서를 만듭니다.")
def employees(file: Path, create_departments: bool) -> None:
    """직원 CSV를 가져옵니다 (사번 기준으로 추가·갱신)."""
    text = _read(file)
    result = _run(lambda s: import_employees(s, text=text, create_departments=create_departments))
    _finish(result, noun="직원", unit="명")


@import_group.command("policyholders")
@click.argument("file", type=_FILE)
def policyholders(file: Path) -> None:
    """계약자 CSV를 가져옵니다 (전화번호 기준으로 추가·갱신)."""
    text = _read(file)
    result = _run(lambda s: import_policyholders(s, text=text))
    _finish(result, noun="계약자", unit="명")


def _read(file: Path) -> str:
    try:
        return decode_csv(file.read_bytes())
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc


def _run(work: Callable[[AsyncSession], Awaitable[ImportResult]]) -> ImportResult:
    """Run one import in one transaction: commit only when every row was valid."""

    async def _main(sessions: async_sessionmaker[AsyncSession]) -> ImportResult:
        async with sessions() as session:
            result = await work(session)
            if result.ok:
                await session.commit()
            else:
                await session.rollback()
            return result

    return run_with_sessions(_main)


def _finish(result: ImportResult, *, noun: str, unit: str) -> None:
    if result.ok:
        click.echo(
            f"{noun} {result.created:,}{unit}을 추가하고 {result.updated:,}{unit}을 갱신했습니다."
        )
        return
    for error in result.errors:
        click.echo(str(error), err=True)
    raise click.ClickException(
        f"오류 {len(result.errors):,}건이 있어 파일의 어떤 행도 저장하지 않았습니다."
    )


@import_group.command("policy-events")
@click.argument("file", type=_FILE)
def policy_events(file: Path) -> None:
    """계약 이력 CSV를 가져옵니다 (정상·미납·실효·부활·해지·완납·만기; 형식: docs/import.md)."""
    text = _read(file)

    async def _main(sessions: async_sessionmaker[AsyncSession]) -> PolicyEventsResult:
        async with sessions() as session:
            result = await import_policy_events(session, text=text)
            if result.ok:
                await session.commit()
            else:
                await session.rollback()
            return result

    result = run_with_sessions(_main)
    if not result.ok:
        for error in result.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(
            f"오류 {len(result.errors):,}건이 있어 파일의 어떤 행도 저장하지 않았습니다."
        )
    click.echo(
        f"계약 이력 {result.events_added:,}건을 추가했습니다 (이미 있던 {result.events_skipped:,}건은 "
        f"건너뜀). 새 계약 {result.policies_created:,}건, 상태를 다시 계산한 계약 "
        f"{result.policies_recomputed:,}건."
    )
