"""Undelivered messages: what the outbox gave up on, and queueing one again (admins)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.admin import audit
from bot.admin.auth import check_csrf, current_principal, require_role
from bot.admin.routes.common import db, int_param, render
from bot.db.models import Employee, OutboxMessage, Policyholder
from bot.db.models import Request as CustomerRequest
from bot.services.outbox import failed_messages, requeue

PER_PAGE = 50


@dataclass
class FailedRow:
    message: OutboxMessage
    recipient: str  # whom it was for: an employee, or a policyholder (name, masked as usual)
    to_employee: bool
    reference: str | None


async def _rows(request: Request, page: int) -> tuple[list[FailedRow], bool]:
    async with db(request) as session:
        messages = await failed_messages(session, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
        rows = []
        for message in messages[:PER_PAGE]:
            # To an employee's chat, else to the policyholder it concerns, else to its employee.
            employee = await session.scalar(
                select(Employee).where(Employee.telegram_chat_id == message.chat_id)
            )
            holder = (
                await session.get(Policyholder, message.policyholder_id)
                if employee is None and message.policyholder_id is not None
                else None
            )
            if employee is None and holder is None and message.employee_id is not None:
                employee = await session.get(Employee, message.employee_id)
            linked = (
                await session.get(CustomerRequest, message.request_id)
                if message.request_id is not None
                else None
            )
            rows.append(
                FailedRow(
                    message=message,
                    recipient=employee.display_name
                    if employee
                    else (holder.name if holder else ""),
                    to_employee=employee is not None,
                    reference=linked.reference if linked else None,
                )
            )
    return rows, len(messages) > PER_PAGE


async def undelivered(request: Request) -> Response:
    """Messages Telegram never took (after 24 hours of retries, a 400 or a 403)."""
    page = int_param(request, "page")
    async with db(request) as session:
        principal = await current_principal(request, session)
        require_role(principal, "admin")
    rows, has_next = await _rows(request, page)
    return render(
        request,
        "outbox.html",
        {
            "rows": rows,
            "has_next": has_next,
            "page": page,
            "done": request.query_params.get("done"),
        },
        principal=principal,
    )


async def requeue_message(request: Request) -> Response:
    """Queue a failed message again: sent as soon as Telegram takes it, retried for 24 hours."""
    await check_csrf(request)
    message_id = int(request.path_params["message_id"])
    async with db(request) as session:
        principal = await current_principal(request, session)
        require_role(principal, "admin")
        if not await requeue(session, message_id=message_id):
            raise HTTPException(status_code=404)
        audit.record(session, principal, "requeue", f"outbox:{message_id}")
    base = request.scope.get("root_path", "")
    return RedirectResponse(f"{base}/outbox?done={message_id}", status_code=303)
