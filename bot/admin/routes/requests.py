"""The requests board and one request's page."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot import clock
from bot.admin import audit
from bot.admin.auth import current_principal
from bot.admin.privacy import page_redactors
from bot.admin.requests_board import BoardFilter, list_requests, load_request, status_kind_counts
from bot.admin.routes.common import db, int_param, path_id, render
from bot.admin.vocabulary import REQUEST_KINDS, REQUEST_STATUSES


async def request_board(request: Request) -> Response:
    """Requests by status and kind, with age and SLA breaches."""
    params = request.query_params
    flt = BoardFilter(
        status=params.get("status") if params.get("status") in REQUEST_STATUSES else None,
        kind=params.get("kind") if params.get("kind") in REQUEST_KINDS else None,
        breached=params.get("breached") in ("1", "on"),
        page=int_param(request, "page"),
    )
    now = clock.now()
    async with db(request) as session:
        principal = await current_principal(request, session)
        counts = await status_kind_counts(session, principal)
        rows, has_next = await list_requests(session, principal, flt, now)
    return render(
        request,
        "requests.html",
        {
            "filter": flt,
            "counts": counts,
            "rows": rows,
            "has_next": has_next,
            "kinds": REQUEST_KINDS,
            "statuses": REQUEST_STATUSES,
        },
        principal=principal,
    )


async def request_view(request: Request) -> Response:
    """One request: details, history, linked messages."""
    request_id = path_id(request, "request_id")
    async with db(request) as session:
        principal = await current_principal(request, session)
        detail = await load_request(session, principal, request_id, clock.now())
        if detail is None:
            audit.record(session, principal, "denied", f"request:{request_id}")
            await session.commit()
            raise HTTPException(status_code=404)
        audit.record(session, principal, "view", f"request:{request_id}")
        redactors = await page_redactors(session, principal, [detail.holder.id])
    return render(
        request, "request.html", {"d": detail, "redactors": redactors}, principal=principal
    )
