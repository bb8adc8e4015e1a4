"""Helpers shared by the handlers: database session, rendering, simple parameter parsing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from bot.admin.auth import csrf_token
from bot.admin.principal import Principal


@asynccontextmanager
async def db(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per web request; committed when the handler succeeds."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    principal: Principal | None,
    status_code: int = 200,
) -> Response:
    """Render a page with the user, CSRF token and the console's base path available."""
    templates: Jinja2Templates = request.app.state.templates
    full = {
        "principal": principal,
        "csrf_token": csrf_token(request),
        "base": request.scope.get("root_path", ""),
        **context,
    }
    return templates.TemplateResponse(request, template, full, status_code=status_code)


def int_param(request: Request, name: str, default: int = 1) -> int:
    """An integer query parameter, or ``default`` when missing or malformed."""
    value = request.query_params.get(name, "")
    try:
        return max(int(value), 1)
    except ValueError:
        return default
