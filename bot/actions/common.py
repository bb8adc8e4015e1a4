"""Lookups and small pieces shared by the actions."""

from sqlalchemy import select

from bot.actions import texts
from bot.actions.sdk import Context, Dispatcher, Event, Tracker, slot_set
from bot.db.models import Department, Employee, Policy, Request
from bot.services.requests import open_request

FORM_SLOTS = {
    "loan_form": ("loan_policy", "loan_amount", "loan_confirm"),
    "booking_form": (
        "booking_kind",
        "event_relation",
        "event_date",
        "event_place",
        "booking_confirm",
    ),
    "complaint_form": ("complaint_category", "complaint_details"),
}

SKIPPED_ACTIONS = {"action_listen", "action_extract_slots", "action_session_start"}


def reset_form(form: str) -> list[Event]:
    """Forget a form's answers after it was submitted or cancelled."""
    return [slot_set(slot, None) for slot in FORM_SLOTS[form]] + [slot_set("requested_slot", None)]


async def policies_of(ctx: Context) -> list[Policy]:
    result = await ctx.session.scalars(
        select(Policy).where(Policy.policyholder_id == ctx.policyholder.id).order_by(Policy.id)
    )
    return list(result)


async def employee_of(ctx: Context) -> tuple[Employee, Department] | None:
    """The policyholder's own employee and department (routing may still pick someone else)."""
    if ctx.policyholder.employee_id is None:
        return None
    employee = await ctx.session.get(Employee, ctx.policyholder.employee_id)
    if employee is None:
        return None
    department = await ctx.session.get(Department, employee.department_id)
    assert department is not None
    return employee, department


async def handler_name(ctx: Context, request: Request) -> str:
    """How the policyholder is told who handles the request: 김영환 기획부장."""
    if request.employee_id is None:
        return "고객센터 상담원"
    employee = await ctx.session.get(Employee, request.employee_id)
    return employee.display_name if employee else "고객센터 상담원"


def previous_action(tracker: Tracker) -> str | None:
    """The bot's last action before the latest user message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif (
            seen_user
            and event.get("event") == "action"
            and event.get("name") not in SKIPPED_ACTIONS
        ):
            return str(event.get("name"))
    return None


async def open_and_tell(
    dispatcher: Dispatcher,
    ctx: Context,
    *,
    kind: str,
    summary: str,
    message: str,
    details: dict[str, object] | None = None,
    policy_id: int | None = None,
    **fields: str,
) -> Request:
    """Persist a request (with its alert) and only then tell the policyholder its reference."""
    request = await open_request(
        ctx.session,
        policyholder=ctx.policyholder,
        kind=kind,
        summary=summary,
        details=dict(details or {}),
        policy_id=policy_id,
        deadlines=ctx.deadlines,
    )
    employee = await handler_name(ctx, request)
    dispatcher.say(message.format(reference=request.reference, employee=employee, **fields))
    return request


def yes_no_buttons(yes: str = texts.YES, no: str = texts.NO) -> list[dict[str, str]]:
    return [{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}]
