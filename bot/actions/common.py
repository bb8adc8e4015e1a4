"""Lookups and small pieces shared by the actions, and the base of every form's validator."""

import re
from typing import ClassVar

from sqlalchemy import select

from bot.actions import texts
from bot.actions.sdk import Context, Dispatcher, Event, FormValidator, Tracker, slot_set
from bot.db.models import Department, Employee, Policy, Request
from bot.open_questions import SKIPPED_ACTIONS
from bot.services.requests import open_request
from bot.services.turns import TurnTaken, claim_turn

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


def form_run_key(tracker: Tracker, form: str) -> str | None:
    """Names one run of ``form``: from its activation to its submit.

    If Rasa loses a turn after the submit committed (the app gave up waiting and Rasa's
    handling was cancelled, so its tracker was never saved), the customer's next "네" submits
    the same run again; the key then finds the request already opened. A new run of the form is
    a new activation with a new timestamp. None when the tracker carries no timestamps.
    """
    stamp = tracker.timestamp_of_last("active_loop", form)
    return None if stamp is None else f"{tracker.sender_id}:{form}:{stamp:.6f}"


def offer_key(tracker: Tracker, offer: str) -> str | None:
    """Names one offer (call-back, card, question): the bot action that made it, and when."""
    action = previous_action(tracker)
    stamp = tracker.timestamp_of_last("action", action) if action else None
    return None if stamp is None else f"{tracker.sender_id}:{offer}:{action}:{stamp:.6f}"


async def claim_this_turn(ctx: Context, request: Request) -> None:
    """Link the request to the message it answers; raise ``TurnTaken`` if the app has already
    handed that message to a person (it stopped waiting for Rasa) — see ``bot.services.turns``."""
    if ctx.turn_contact_id is None:
        return
    if not await claim_turn(
        ctx.session,
        contact_id=ctx.turn_contact_id,
        policyholder_id=ctx.policyholder.id,
        request_id=request.id,
    ):
        raise TurnTaken(f"turn {ctx.turn_contact_id} already has a request")


async def tell_opened(
    dispatcher: Dispatcher, ctx: Context, request: Request, message: str, **fields: str
) -> None:
    """Tell the policyholder the reference of a request that is persisted (and claimed)."""
    await claim_this_turn(ctx, request)
    employee = await handler_name(ctx, request)
    dispatcher.say(message.format(reference=request.reference, employee=employee, **fields))


async def open_and_tell(
    dispatcher: Dispatcher,
    ctx: Context,
    *,
    kind: str,
    summary: str,
    message: str,
    details: dict[str, object] | None = None,
    policy_id: int | None = None,
    idempotency_key: str | None = None,
    **fields: str,
) -> Request:
    """Persist a request (with its alert) and only then tell the policyholder its reference.

    With ``idempotency_key`` a request already opened for the same decision is told again
    instead of being opened twice.
    """
    request = await open_request(
        ctx.session,
        policyholder=ctx.policyholder,
        kind=kind,
        summary=summary,
        details=dict(details or {}),
        policy_id=policy_id,
        idempotency_key=idempotency_key,
        deadlines=ctx.deadlines,
    )
    await tell_opened(dispatcher, ctx, request, message, **fields)
    return request


def yes_no_buttons(yes: str = texts.YES, no: str = texts.NO) -> list[dict[str, str]]:
    return [{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}]


# "관둘게요", "접수하지 말아 주세요", "신청 철회할게요": the customer drops the request in progress.
# Only short messages count: a complaint that tells of a cancelled contract is no cancellation.
_CANCELLATION = re.compile(
    r"관둘|관두|관둬|그만\s?(?:할|하|둘|두|둬)|취소(?:할|해|하고|하겠|요|$)|철회|없던\s?(?:걸|것|일)로|"
    r"(?:접수|신청|진행|예약)(?:는|은)?\s?(?:하지|안\s?하|안\s?해|말아|마세요|마요|마)|"
    r"하지\s?(?:말아|마세요|마요)|안\s?할(?:래|게)|안\s?하(?:겠|려|고\s?싶)|안\s?해도\s?돼|"
    r"필요\s?없|다음에\s?(?:할|하)|생각\s?(?:해|좀)\s?볼게|마음이?\s?바뀌|안\s?하는\s?게\s?낫|"
    r"고마\s?됐|그만\s?됐|됐(?:어요|습니다|심더)\s?(?:그만|취소|다음)"
)
CANCELLATION_MAX_LENGTH = 60
# Where any text is an answer (what happened), only a message that says little else counts.
FREE_TEXT_CANCELLATION_MAX_LENGTH = 15


def is_cancellation(text: str, *, max_length: int = CANCELLATION_MAX_LENGTH) -> bool:
    """Whether a short message drops the request in progress, however indirectly it says so."""
    compact = text.strip()
    return len(compact) <= max_length and bool(_CANCELLATION.search(compact))


CANCELLED_PATTERN = re.compile(re.escape(texts.CANCELLED).replace(re.escape("{what}"), ".*"))


def cancelled_this_turn(tracker: Tracker) -> bool:
    """Whether the bot has just told the customer the form was cancelled."""
    return any(CANCELLED_PATTERN.fullmatch(text) for text in tracker.bot_texts_this_turn())


def cancellation_events(form: str, dispatcher: Dispatcher) -> list[Event]:
    """Say the form was cancelled and forget its answers."""
    what = texts.FORM_NAMES.get(form, "신청")
    dispatcher.say(texts.CANCELLED.format(what=texts.josa(what, "을/를")))
    return reset_form(form)


class FormRules(FormValidator):
    """What every form does: a message that drops the request ends the form, whichever
    question it answers (the NLU may read "관둘게요" as an answer rather than ``cancel``).

    For free-text slots in ``free_text`` (a complaint's story) only a very short message is
    read as a cancellation.
    """

    form: ClassVar[str]
    free_text: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.form_slots = frozenset(FORM_SLOTS[cls.form])

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        asked = tracker.requested_slot
        limit = (
            FREE_TEXT_CANCELLATION_MAX_LENGTH
            if asked in self.free_text
            else CANCELLATION_MAX_LENGTH
        )
        if (
            tracker.active_loop_name == self.form
            and asked in tracker.slots_to_validate()
            and is_cancellation(tracker.text, max_length=limit)
        ):
            return cancellation_events(self.form, dispatcher)
        return await super().run(dispatcher, tracker, ctx)


_YES = re.compile(r"(?:네|넵|넹|예|응|웅|ㅇㅇ|그래|좋아|맞아|맞습니다|맞아요|부탁|접수해|신청해)")
_NO = re.compile(r"(?:아니|아뇨|아녀|놉|ㄴㄴ|싫어|안\s?돼)")


def yes_or_no(tracker: Tracker) -> bool | None:
    """A 네 / 아니요 answer: the intent, or else how the reply begins ("네네 감사합니다")."""
    if tracker.intent in ("affirm", "deny"):
        return tracker.intent == "affirm"
    text = tracker.text.strip()
    if _NO.match(text):
        return False
    if _YES.match(text):
        return True
    return None
