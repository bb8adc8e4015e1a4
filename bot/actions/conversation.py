"""Actions outside forms: greeting, policy answers, offers, suggestions, fallback, form control."""

from datetime import date

from bot import clock
from bot.actions import texts
from bot.actions.booking import booking_statement, start_booking
from bot.actions.common import (
    FORM_SLOTS,
    employee_of,
    offer_key,
    open_and_tell,
    policies_of,
    previous_action,
    reset_form,
    yes_no_buttons,
)
from bot.actions.sdk import (
    Action,
    Context,
    Dispatcher,
    Event,
    Tracker,
    active_loop,
    button,
    slot_set,
)
from bot.config import get_settings
from bot.db.models import Policy, RequestKind
from bot.services.labels import POLICY_STATUS_LABELS, won
from bot.services.policy_history import CYCLE_LABELS


class GreetAction(Action):
    """Greet the policyholder by name and show the main menu."""

    name = "action_greet"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        kind = booking_statement(tracker)  # "안녕하세요, 다음주에 아빠가 이사해요"
        if kind is not None:
            dispatcher.say(texts.GREETING.format(name=ctx.policyholder.name))
            return start_booking(kind)
        buttons = [button(title, payload) for title, payload in texts.MENU]
        dispatcher.say(texts.GREETING.format(name=ctx.policyholder.name), buttons)
        return []


def describe_policy(policy: Policy) -> str:
    lines = [
        texts.POLICY_LINE.format(
            product=policy.product,
            number=policy.number,
            status=POLICY_STATUS_LABELS.get(policy.status, policy.status),
        ),
        texts.POLICY_PREMIUM.format(
            cycle=CYCLE_LABELS.get(policy.payment_cycle, "월")
            if policy.payment_cycle not in (None, "monthly")
            else "월",
            premium=won(policy.premium),
            due=policy.next_due_date or "없음 (납입 완료)",
        ),
        texts.POLICY_MATURITY.format(
            maturity=policy.maturity_date or "종신", surrender=won(policy.surrender_value)
        ),
    ]
    if policy.loan_limit > 0:
        lines.append(texts.POLICY_LOAN.format(limit=won(policy.loan_limit), rate=policy.loan_rate))
    if policy.coverage_summary:
        lines.append(texts.POLICY_COVERAGE.format(coverage=policy.coverage_summary))
    return "\n".join(lines)


async def say_policies(dispatcher: Dispatcher, ctx: Context) -> None:
    policies = await policies_of(ctx)
    if not policies:
        dispatcher.say(texts.NO_POLICIES)
        return
    header = texts.POLICIES_HEADER.format(name=ctx.policyholder.name)
    dispatcher.say("\n\n".join([header, *(describe_policy(p) for p in policies)]))


class AnswerPolicyAction(Action):
    """Answer questions about the policyholder's policies from the database."""

    name = "action_answer_policy"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        await say_policies(dispatcher, ctx)
        return []


class OfferCallbackAction(Action):
    """Name the assigned employee and offer a call-back."""

    name = "action_offer_callback"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        owner = await employee_of(ctx)
        if owner is None:
            dispatcher.say(texts.NO_EMPLOYEE.format(phone=get_settings().company_phone))
            return [slot_set("pending_offer", None)]
        employee, department = owner
        dispatcher.say(
            texts.CALLBACK_OFFER.format(
                name=ctx.policyholder.name,
                employee=employee.display_name,
                department=department.name,
            ),
            yes_no_buttons(texts.CALLBACK_YES),
        )
        return [slot_set("pending_offer", "callback")]


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class OfferCardAction(Action):
    """Check 국제-국민카드 eligibility and offer to pass the application on."""

    name = "action_offer_card"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        today = clock.today()
        has_active = any(p.status == "active" for p in await policies_of(ctx))
        if not has_active or age_on(ctx.policyholder.birth_date, today) < 19:
            dispatcher.say(texts.CARD_INELIGIBLE)
            return [slot_set("pending_offer", None)]
        dispatcher.say(
            texts.CARD_OFFER.format(name=ctx.policyholder.name), yes_no_buttons(texts.CARD_YES)
        )
        return [slot_set("pending_offer", "card")]


class FallbackAction(Action):
    """Admit we did not understand and offer to pass the question to the employee."""

    name = "action_fallback"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        # "시어머니께서 어젯밤 돌아가셨어요" may not read as a booking: the event it states is one.
        kind = booking_statement(tracker)
        if kind is not None:
            return start_booking(kind)
        dispatcher.say(texts.FALLBACK, yes_no_buttons(texts.FALLBACK_YES))
        return [slot_set("pending_offer", "question")]


OFFER_ACTIONS = {"action_offer_callback", "action_offer_card", "action_fallback"}


class AcceptOfferAction(Action):
    """A 네 to the offer just made: open the call-back, card or question request."""

    name = "action_accept_offer"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        offer = tracker.get_slot("pending_offer")
        if offer is None or previous_action(tracker) not in OFFER_ACTIONS:
            kind = booking_statement(tracker)  # "네, 어머니가 돌아가셨어요": no offer to accept
            if kind is not None:
                return [slot_set("pending_offer", None), *start_booking(kind)]
            dispatcher.utter("utter_how_can_i_help")
            return [slot_set("pending_offer", None)]
        if offer == "callback":
            await open_and_tell(
                dispatcher,
                ctx,
                kind=RequestKind.CALLBACK,
                summary="담당 직원의 연락(전화)을 요청했어요.",
                message=texts.CALLBACK_DONE,
                idempotency_key=offer_key(tracker, offer),
            )
        elif offer == "card":
            await open_and_tell(
                dispatcher,
                ctx,
                kind=RequestKind.CARD,
                summary="국제-국민카드 발급을 신청했어요.",
                message=texts.CARD_DONE,
                idempotency_key=offer_key(tracker, offer),
            )
        else:
            unanswered = tracker.last_user_texts({"nlu_fallback", "out_of_scope"})
            question = unanswered[0] if unanswered else tracker.text
            await open_and_tell(
                dispatcher,
                ctx,
                kind=RequestKind.QUESTION,
                summary=f"챗봇이 답하지 못한 질문: {question}",
                message=texts.QUESTION_DONE,
                details={"question": question},
                idempotency_key=offer_key(tracker, str(offer)),
            )
        return [slot_set("pending_offer", None)]


class DeclineOfferAction(Action):
    """A 아니요: drop the offer."""

    name = "action_decline_offer"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        dispatcher.say(texts.OFFER_DECLINED)
        return [slot_set("pending_offer", None)]


class RecordSuggestionAction(Action):
    """Record a service wish and route it to the employee; reports count them."""

    name = "action_record_suggestion"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        await open_and_tell(
            dispatcher,
            ctx,
            kind=RequestKind.SUGGESTION,
            summary=tracker.text,
            message=texts.SUGGESTION_DONE,
            details={"wish": tracker.text},
        )
        return []


class CancelFormAction(Action):
    """Stop the running form and forget its answers."""

    name = "action_cancel_form"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        form = tracker.active_loop_name
        what = texts.FORM_NAMES.get(form or "", "신청")
        dispatcher.say(texts.CANCELLED.format(what=texts.josa(what, "을/를")))
        events = [active_loop(None)]
        if form in FORM_SLOTS:
            events += reset_form(form)
        return events


class SwitchTopicAction(Action):
    """Pause the running form; its answers stay, so asking for it again resumes it."""

    name = "action_switch_topic"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        what = texts.FORM_NAMES.get(tracker.active_loop_name or "", "진행 중이던 신청")
        dispatcher.say(texts.PAUSED.format(what=texts.josa(what, "은/는")))
        # data/rules.yml runs what was asked for next.
        return [active_loop(None), slot_set("requested_slot", None)]


class InterjectionAction(Action):
    """Answer a question or a pleasantry in the middle of a form; the form then asks again."""

    name = "action_interjection"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        if tracker.intent == "ask_policy":
            await say_policies(dispatcher, ctx)
        elif tracker.intent == "thank":
            dispatcher.say(texts.INTERJECTION_THANK)
        else:
            dispatcher.say(texts.INTERJECTION_GREET)
        return []
