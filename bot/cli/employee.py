"""``milchak employee``: list employees and make Telegram invite links."""

from __future__ import annotations

import json

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import run_with_sessions
from bot.clock import SEOUL
from bot.config import get_settings
from bot.db.engine import session_scope
from bot.db.models import Department, Employee
from bot.services.invites import create_invite, invite_link


@click.group()
def employee() -> None:
    """직원 관리 (목록, 텔레그램 초대 링크)."""


@employee.command("list")
@click.option("--department", "department", help="부서 이름으로 거르기 (예: 기획부).")
@click.option("--json", "as_json", is_flag=True, help="한 줄에 한 명씩 JSON으로 출력합니다.")
def list_employees(department: str | None, as_json: bool) -> None:
    """List employees: id, name, title, department, whether Telegram is linked."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
        async with sessions() as session:
            query = (
                select(Employee, Department.name)
                .join(Department, Department.id == Employee.department_id)
                .order_by(Department.name, Employee.id)
            )
            if department:
                query = query.where(Department.name == department)
            rows = await session.execute(query)
            return [
                {
                    "id": e.id,
                    "name": e.name,
                    "title": e.title,
                    "department": dept,
                    "telegram_linked": e.telegram_chat_id is not None,
                    "telegram_blocked": e.telegram_blocked,
                    "is_head": e.is_head,
                }
                for e, dept in rows.all()
            ]

    rows = run_with_sessions(work)
    if department and not rows:
        raise click.ClickException(f"'{department}' 부서에 직원이 없습니다.")
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            linked = "연결됨" if row["telegram_linked"] else "미연결"
            click.echo(
                f"{row['id']:>5}  {row['name']} {row['title']}  {row['department']}  "
                f"텔레그램 {linked}"
            )


@employee.command("invite")
@click.argument("employee_id", type=int)
def invite(employee_id: int) -> None:
    """Print a one-time Telegram link (valid 72 h) that links EMPLOYEE_ID's account."""
    settings = get_settings()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str, str]:
        async with session_scope(sessions) as session:
            person = await session.get(Employee, employee_id)
            if person is None:
                raise click.ClickException(f"직원 번호 {employee_id}을(를) 찾을 수 없습니다.")
            made = await create_invite(session, employee_id=employee_id)
            expires = made.expires_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")
            return person.display_name, made.code, expires

    name, code, expires = run_with_sessions(work)
    click.echo(invite_link(settings.telegram_bot_username, code))
    click.echo(
        f"{name}님 전용 초대 링크입니다. 한 번만 쓸 수 있고 {expires}(서울)까지 유효합니다.",
        err=True,
    )
