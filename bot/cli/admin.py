"""``milchak admin``: console accounts."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import run_with_sessions
from bot.db import session_scope
from bot.services.admin_users import ROLES, AdminUserError, change_password, create_admin_user


@click.group()
def admin() -> None:
    """관리 콘솔 계정."""


@admin.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="admin, head 또는 auditor")
@click.option("--department", "department", default=None, help="부서장(head)의 부서 이름")
@click.option(
    "--password",
    default=None,
    help="비밀번호 (주지 않으면 입력을 받습니다; 셸 기록에 남지 않게 입력을 권합니다)",
)
def admin_create(username: str, role: str, department: str | None, password: str | None) -> None:
    """Create console account USERNAME."""
    if password is None:
        password = click.prompt("비밀번호", hide_input=True, confirmation_prompt="비밀번호 확인")

    async def _create(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with session_scope(sessions) as session:
            user = await create_admin_user(
                session,
                username=username,
                password=password,
                role=role,
                department_name=department,
            )
            return user.id

    try:
        user_id = run_with_sessions(_create)
    except AdminUserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"계정을 만들었습니다: {username} (역할 {role}, id {user_id})")


@admin.command("password")
@click.argument("username")
@click.option("--password", default=None, help="새 비밀번호 (주지 않으면 입력을 받습니다)")
def admin_password(username: str, password: str | None) -> None:
    """Set a new password for USERNAME and end all of its console sessions."""
    if password is None:
        password = click.prompt(
            "새 비밀번호", hide_input=True, confirmation_prompt="새 비밀번호 확인"
        )

    async def _change(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with session_scope(sessions) as session:
            await change_password(session, username=username, password=password)

    try:
        run_with_sessions(_change)
    except AdminUserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"비밀번호를 바꾸고 {username}의 로그인 세션을 모두 끝냈습니다.")
