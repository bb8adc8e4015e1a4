"""Conversation list, search, transcript and the contacts CSV export."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.admin import audit
from bot.admin.auth import current_principal
from bot.admin.conversations import list_conversations, load_transcript, policyholder_department_id
from bot.admin.display import masked_name, masked_phone, safe_text, seoul_time
from bot.admin.filters import ContactFilter, contact_conditions
from bot.admin.principal import Principal
from bot.admin.privacy import Redactors, page_redactors, redactors_for
from bot.admin.routes.common import db, int_param, path_id, render
from bot.admin.vocabulary import ALL_INTENTS, REQUEST_KINDS, REQUEST_STATUSES
from bot.db.models import Contact, Department, Employee, Policyholder
from bot.db.models import Request as CustomerRequest
from bot.services.csv_safe import UTF8_BOM, csv_line

EXPORT_BATCH = 2000
EXPORT_HEADER = [
    "id",
    "time_kst",
    "policyholder_id",
    "policyholder",
    "phone",
    "employee",
    "department",
    "channel",
    "direction",
    "sender",
    "intent",
    "confidence",
    "labelled_intent",
    "request",
    "text",
]


async def _choices(session: AsyncSession, principal: Principal) -> dict[str, object]:
    """Departments and employees for the filter form, within the user's scope."""
    departments = select(Department).order_by(Department.name)
    employees = select(Employee).order_by(Employee.name)
    scope = principal.scope_department_id
    if scope is not None:
        departments = departments.where(Department.id == scope)
        employees = employees.where(Employee.department_id == scope)
    return {
        "departments": list((await session.scalars(departments)).all()),
        "employees": list((await session.scalars(employees)).all()),
        "intents": ALL_INTENTS,
        "kinds": REQUEST_KINDS,
        "statuses": REQUEST_STATUSES,
    }


async def conversation_list(request: Request) -> Response:
    """The filtered, searchable list of conversations."""
    flt = ContactFilter.from_query(request.query_params)
    page = int_param(request, "page")
    async with db(request) as session:
        principal = await current_principal(request, session)
        conditions = await contact_conditions(session, flt, principal)
        result = await list_conversations(session, conditions, page=page)
        choices = await _choices(session, principal)
        redactors = await page_redactors(
            session, principal, [row.policyholder_id for row in result.rows]
        )
        if flt.q or page > 1 or flt.describe() != "(전체)":
            audit.record(session, principal, "search", "conversations", flt.describe())
    return render(
        request,
        "conversations.html",
        {"filter": flt, "result": result, "redactors": redactors, **choices},
        principal=principal,
    )


async def conversation_view(request: Request) -> Response:
    """One policyholder's transcript; a head only within their own department."""
    holder_id = path_id(request, "holder_id")
    page = int_param(request, "page")
    async with db(request) as session:
        principal = await current_principal(request, session)
        scope = principal.scope_department_id
        if scope is not None and await policyholder_department_id(session, holder_id) != scope:
            audit.record(session, principal, "denied", f"conversation:{holder_id}")
            await session.commit()
            raise HTTPException(status_code=404)
        transcript = await load_transcript(session, holder_id, page=page)
        if transcript is None:
            raise HTTPException(status_code=404)
        audit.record(session, principal, "view", f"conversation:{holder_id}", f"page={page}")
        redactors = await page_redactors(session, principal, [holder_id])
    return render(
        request,
        "conversation.html",
        {
            "t": transcript,
            "page": page,
            "q": request.query_params.get("q", ""),
            "redactors": redactors,
        },
        principal=principal,
    )


async def export_contacts(request: Request) -> Response:
    """Every contact matching the current filter as CSV, one row per contact."""
    flt = ContactFilter.from_query(request.query_params)
    async with db(request) as session:
        principal = await current_principal(request, session)
        conditions = await contact_conditions(session, flt, principal)
        audit.record(session, principal, "export", "contacts.csv", flt.describe())
    stmt = (
        select(
            Contact,
            Policyholder.name,
            Policyholder.phone,
            Employee.name,
            Employee.title,
            Department.name,
            CustomerRequest.reference,
        )
        .outerjoin(Policyholder, Contact.policyholder_id == Policyholder.id)
        .outerjoin(Employee, Policyholder.employee_id == Employee.id)
        .outerjoin(Department, Employee.department_id == Department.id)
        .outerjoin(CustomerRequest, Contact.request_id == CustomerRequest.id)
        .where(*conditions)
        .order_by(Contact.created_at, Contact.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    sessions = request.app.state.sessions
    mask_names = principal.masks_personal_data

    async def rows() -> AsyncIterator[str]:
        yield UTF8_BOM + csv_line(EXPORT_HEADER)
        redactors: Redactors = {}
        async with sessions() as stream_session, sessions() as lookup_session:
            result = await stream_session.stream(stmt)
            async for partition in result.partitions(EXPORT_BATCH):
                if mask_names:
                    # Auditors: each policyholder's name, address, birth date and booking
                    # places are masked inside the texts too, looked up once per policyholder.
                    new = {row[0].policyholder_id for row in partition} - redactors.keys()
                    redactors.update(await redactors_for(lookup_session, new))
                for contact, name, phone, emp, title, dept, ref in partition:
                    if mask_names:
                        redactor = redactors.get(contact.policyholder_id)
                        text = redactor.text(contact.text) if redactor else safe_text(contact.text)
                    else:
                        text = safe_text(contact.text)
                    shown_name = (masked_name(name) if mask_names else name) if name else ""
                    yield csv_line(
                        [
                            contact.id,
                            seoul_time(contact.created_at, "%Y-%m-%d %H:%M:%S"),
                            contact.policyholder_id or "",
                            shown_name,
                            masked_phone(phone) if phone else "",
                            f"{emp} {title}" if emp else "",
                            dept or "",
                            contact.channel,
                            contact.direction,
                            contact.sender,
                            contact.intent or "",
                            "" if contact.confidence is None else f"{contact.confidence:.3f}",
                            contact.labelled_intent or "",
                            ref or "",
                            text,
                        ]
                    )

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="milchak-contacts.csv"'},
    )
