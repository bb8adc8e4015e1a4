"""The review queue (admins label intents) and its Rasa NLU export; the audit log page."""

from __future__ import annotations

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.admin import audit
from bot.admin.auth import check_csrf, current_principal, require_role
from bot.admin.privacy import names_redactor
from bot.admin.review import label_contact, nlu_yaml, review_page
from bot.admin.routes.common import MAX_BIG_ID, db, int_param, path_id, render
from bot.admin.vocabulary import INTENTS
from bot.db.models import AdminUser, AuditLog

AUDIT_PER_PAGE = 100


async def review_queue(request: Request) -> Response:
    """Turns waiting for a label, or the labelled ones."""
    labelled = request.query_params.get("show") == "labelled"
    page = int_param(request, "page")
    async with db(request) as session:
        principal = await current_principal(request, session)
        require_role(principal, "admin")
        items, has_next = await review_page(session, labelled=labelled, page=page)
    return render(
        request,
        "review.html",
        {
            "items": items,
            "has_next": has_next,
            "page": page,
            "labelled": labelled,
            "intents": INTENTS,
        },
        principal=principal,
    )


async def review_label(request: Request) -> Response:
    """Store the intent an admin chose for a turn."""
    form = await check_csrf(request)
    contact_id = path_id(request, "contact_id", largest=MAX_BIG_ID)
    intent = str(form.get("intent", ""))
    async with db(request) as session:
        principal = await current_principal(request, session)
        require_role(principal, "admin")
        try:
            contact = await label_contact(session, contact_id=contact_id, intent=intent)
        except ValueError as exc:
            raise HTTPException(status_code=400, detail="intent") from exc
        if contact is None:
            raise HTTPException(status_code=404)
        audit.record(session, principal, "label", f"contact:{contact_id}", intent or "(cleared)")
    back = str(form.get("back", ""))
    base = request.scope.get("root_path", "")
    target = back if back.startswith(base + "/review") else base + "/review"
    return RedirectResponse(target, status_code=303)


async def review_export(request: Request) -> Response:
    """Labelled turns as Rasa NLU YAML."""
    async with db(request) as session:
        principal = await current_principal(request, session)
        require_role(principal, "admin")
        body = await nlu_yaml(session)
        audit.record(session, principal, "export", "nlu.yml")
    return Response(
        body,
        media_type="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="milchak-reviewed-nlu.yml"'},
    )


async def audit_log(request: Request) -> Response:
    """Who did what in the console, newest first (admins and auditors)."""
    page = int_param(request, "page")
    async with db(request) as session:
        principal = await current_principal(request, session)
        require_role(principal, "admin", "auditor")
        rows = (
            await session.execute(
                select(AuditLog, AdminUser.username)
                .outerjoin(AdminUser, AuditLog.admin_user_id == AdminUser.id)
                .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
                .offset((page - 1) * AUDIT_PER_PAGE)
                .limit(AUDIT_PER_PAGE + 1)
            )
        ).all()
        redactors = (
            {None: await names_redactor(session, [entry.detail for entry, _ in rows])}
            if principal.masks_personal_data
            else {}
        )
    return render(
        request,
        "audit.html",
        {
            "rows": rows[:AUDIT_PER_PAGE],
            "has_next": len(rows) > AUDIT_PER_PAGE,
            "page": page,
            "redactors": redactors,
        },
        principal=principal,
    )
