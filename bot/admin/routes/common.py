"""Helpers shared by the handlers: database session, rendering, simple parameter parsing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException
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


# Pages beyond this are refused as the first page: an offset of 10^20 rows overflows the
# database's integers (a 500 before), and nobody pages that far.
MAX_PAGE = 10_000
# Ids are 32-bit in the schema; anything larger cannot exist (and would overflow a query).
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1  # the ledger's ids


def int_param(request: Request, name: str, default: int = 1) -> int:
    """A page-like integer query parameter, or ``default`` when missing, malformed or absurd."""
    value = request.query_params.get(name, "")
    if not (value.isascii() and value.isdigit()):
        return default
    number = int(value)
    return number if 1 <= number <= MAX_PAGE else default


def path_id(request: Request, name: str, *, largest: int = MAX_ID) -> int:
    """An id from the path; 404 when no row could have it."""
    value = int(request.path_params[name])
    if not 1 <= value <= largest:
        raise HTTPException(status_code=404)
    return value
