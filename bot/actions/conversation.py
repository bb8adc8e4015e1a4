"""Actions outside forms: greeting, policy answers, offers, suggestions, fallback, form control."""

import re
from datetime import date
from typing import NamedTuple

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
    yes_or_no,
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
from bot.open_questions import CONTEXT_ACTIONS, OFFER_ACTIONS
from bot.services.labels import POLICY_STATUS_LABELS, won
from bot.services.policy_history import CYCLE_LABELS
from nlu.events import booking_event


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
        if tracker.get_slot("pending_offer") == "suggestion":  # the wish it asked for
            handled = await handled_by_context(dispatcher, tracker, ctx)
            if handled is not None:
                return handled
        if asks_who_is_my_employee(tracker.text):
            return await offer_callback(dispatcher, ctx)
        await say_policies(dispatcher, ctx)
        if _SPECIFIC_QUESTION.search(tracker.text):
            # "수익자를 바꾸려면 어떻게 해요?": the list may not answer it; a person can.
            dispatcher.say(texts.POLICY_QUESTION_OFFER, yes_no_buttons(texts.FALLBACK_YES))
            return [slot_set("pending_offer", "question")]
        return []


# Questions the policy list does not answer by itself: how to, whether covered, changes.
_SPECIFIC_QUESTION = re.compile(
    r"어떻게|방법|바꾸|바꿀|변경|되는지|될까|되나요|궁금|가능한지|가능할까|절차|서류|수익자|"
    r"해지하면|얼마나|보장되|나오나요|받을 수"
)


class OfferCallbackAction(Action):
    """Name the assigned employee and offer a call-back."""

    name = "action_offer_callback"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        if offer_pending(tracker) == "question" and _PASS_ON.search(tracker.text):
            # "네 담당자분께 전달해 주세요" after "이 질문을 담당 직원에게 전달해 드릴까요?"
            return await accept_offer("question", dispatcher, tracker, ctx)
        return await offer_callback(dispatcher, ctx)


async def offer_callback(dispatcher: Dispatcher, ctx: Context) -> list[Event]:
    """Tell the policyholder who their employee is and offer that employee's call."""
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


# "제 담당자가 누구예요?", "담당 설계사님 성함이요", "담당자 연락처 좀": a question about the
# employee that the callback offer answers, even when the NLU reads it as a policy question or
# does not understand it. A complaint about the employee ("담당자가 전화를 안 받아요") names none
# of these.
_WHO_IS_MY_EMPLOYEE = re.compile(
    r"담당\s?(?:자|직원|설계사|하시는\s?분|해\s?주시는\s?분)?\s?(?:님|분)?\s?(?:이|가|은|는|의)?\s?"
    r"(?:누구|누군|이름|성함|연락처|전화\s?번호|번호)"
)


def asks_who_is_my_employee(text: str) -> bool:
    return bool(_WHO_IS_MY_EMPLOYEE.search(text))


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
        # "시어머니께서 어젯밤 돌아가셨어요" may not read as a booking: the event it states is one;
        # "아뇨 이름만 알면 돼요" answers the offer just made.
        handled = await handled_by_context(dispatcher, tracker, ctx)
        if handled is not None:
            return handled
        if asks_who_is_my_employee(tracker.text):
            return await offer_callback(dispatcher, ctx)
        dispatcher.say(texts.FALLBACK, yes_no_buttons(texts.FALLBACK_YES))
        return [slot_set("pending_offer", "question")]


QUESTION_INTENTS = {"nlu_fallback", "out_of_scope", "ask_policy", "inform", "complaint"}


def offer_pending(tracker: Tracker) -> str | None:
    """The offer the bot's last message made (callback, card, question), if any."""
    offer = tracker.get_slot("pending_offer")
    if offer and previous_action(tracker) in OFFER_ACTIONS:
        return str(offer)
    return None


_PASS_ON = re.compile(r"전달|넘겨|물어봐|확인해|알려\s?주")
_PARTNER_SERVICE = re.compile(r"제휴|할인\s?(?:서비스|혜택)")
_SUGGESTION_WORDS = re.compile(
    r"건의|제안|의견|말씀|드릴|드리고|싶어요|싶은데요|싶은|게|거|것|하나|있어요|있는데요|있습니다|좀|요|\s"
)


async def handled_by_context(
    dispatcher: Dispatcher, tracker: Tracker, ctx: Context
) -> list[Event] | None:
    """What a message means given the bot's last question, whatever its intent; None if nothing.

    A 네 / 아니요 (or "담당자분께 전달해 주세요") to an offer, a suggestion told after "어떤
    의견인지 말씀해 주세요", the kind of partner service after it was asked, a stated event.
    """
    offer = offer_pending(tracker)
    if offer is not None:
        answer = yes_or_no(tracker)
        if answer is True or (offer == "question" and _PASS_ON.search(tracker.text)):
            return await accept_offer(offer, dispatcher, tracker, ctx)
        if answer is False:
            dispatcher.say(texts.OFFER_DECLINED)
            return [slot_set("pending_offer", None)]
    waiting = tracker.get_slot("pending_offer")
    if waiting == "suggestion" and previous_action(tracker) in CONTEXT_ACTIONS:
        return [slot_set("pending_offer", None), *await record_suggestion(dispatcher, ctx, tracker)]
    kind = booking_event(tracker.text)
    if waiting == "booking_kind" and kind and previous_action(tracker) in CONTEXT_ACTIONS:
        return [slot_set("pending_offer", None), *start_booking(kind)]
    kind = booking_statement(tracker)
    if kind is not None:
        return [slot_set("pending_offer", None), *start_booking(kind)]
    if _PARTNER_SERVICE.search(tracker.text) and booking_event(tracker.text) is None:
        buttons = [button(title, payload) for title, payload in texts.BOOKING_KIND_BUTTONS]
        dispatcher.say(texts.ASK_BOOKING_KIND, buttons)
        return [slot_set("pending_offer", "booking_kind")]
    return None


class OfferedRequest(NamedTuple):
    """A request a 네 to an offer opens as it is: its kind, the employee's summary, and what the
    customer is told."""

    kind: RequestKind
    summary: str
    message: str


OFFERED_REQUESTS = {
    "callback": OfferedRequest(
        RequestKind.CALLBACK, "담당 직원의 연락(전화)을 요청했어요.", texts.CALLBACK_DONE
    ),
    "card": OfferedRequest(RequestKind.CARD, "국제-국민카드 발급을 신청했어요.", texts.CARD_DONE),
}


async def accept_offer(
    offer: str, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
) -> list[Event]:
    """Open the call-back, card or question request the customer said yes to."""
    offered = OFFERED_REQUESTS.get(offer)
    if offered is not None:
        await open_and_tell(
            dispatcher,
            ctx,
            kind=offered.kind,
            summary=offered.summary,
            message=offered.message,
            idempotency_key=offer_key(tracker, offer),
        )
    else:
        # The question is the message the offer answered, not this "네, 전달해 주세요".
        earlier = tracker.last_user_texts(QUESTION_INTENTS, before_latest=True)
        question = earlier[0] if earlier else tracker.text
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


class AcceptOfferAction(Action):
    """A 네 to the offer just made: open the call-back, card or question request."""

    name = "action_accept_offer"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        offer = offer_pending(tracker)
        if offer is not None:
            return await accept_offer(offer, dispatcher, tracker, ctx)
        handled = await handled_by_context(dispatcher, tracker, ctx)
        if handled is not None:  # "네, 어머니가 돌아가셨어요": no offer to accept
            return handled
        dispatcher.utter("utter_how_can_i_help")
        return [slot_set("pending_offer", None)]


class InformAction(Action):
    """A statement outside any form: what it answers, the booking it tells of, or else ask
    what is needed."""

    name = "action_inform"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        handled = await handled_by_context(dispatcher, tracker, ctx)
        if handled is not None:
            return handled
        dispatcher.utter("utter_how_can_i_help")
        return []


class DeclineOfferAction(Action):
    """A 아니요: drop the offer."""

    name = "action_decline_offer"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        dispatcher.say(texts.OFFER_DECLINED)
        return [slot_set("pending_offer", None)]


async def record_suggestion(dispatcher: Dispatcher, ctx: Context, tracker: Tracker) -> list[Event]:
    """Open the suggestion request with the customer's words."""
    await open_and_tell(
        dispatcher,
        ctx,
        kind=RequestKind.SUGGESTION,
        summary=tracker.text,
        message=texts.SUGGESTION_DONE,
        details={"wish": tracker.text},
    )
    return []


class RecordSuggestionAction(Action):
    """Record a service wish and route it to the employee; reports count them.

    "건의드릴 게 하나 있어요" says no wish yet: the bot asks for it and records the next message.
    """

    name = "action_record_suggestion"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        handled = await handled_by_context(dispatcher, tracker, ctx)
        if handled is not None:
            return handled
        if len(_SUGGESTION_WORDS.sub("", tracker.text)) < 4:
            dispatcher.say(texts.SUGGESTION_ASK)
            return [slot_set("pending_offer", "suggestion")]
        return await record_suggestion(dispatcher, ctx, tracker)


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


class CancelNothingRunningAction(Action):
    """A 취소 / "안 할래요" with no form running: it declines the offer just made (a call-back,
    the card, passing a question on), or else there is nothing to cancel."""

    name = "action_cancel_nothing_running"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        if offer_pending(tracker) is not None:
            dispatcher.say(texts.OFFER_DECLINED)
            return [slot_set("pending_offer", None)]
        dispatcher.utter("utter_nothing_to_cancel")
        return []


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
