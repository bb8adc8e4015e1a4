"""Moving, funeral and wedding bookings with partner discounts, for policyholders and their
lineal family (직계존비속) only.

The booking rules live in ``bot.services.bookings``; the form applies them to each answer, and
the submit has the service check them all again where the request is opened.
"""

import dataclasses
import re
from typing import Any

from bot import clock
from bot.actions import texts
from bot.actions.common import (
    FormRules,
    cancelled_this_turn,
    form_run_key,
    is_cancellation,
    reset_form,
    tell_opened,
    yes_no_buttons,
    yes_or_no,
)
from bot.actions.sdk import Action, Context, Dispatcher, Event, Tracker, followup, slot_set
from bot.db.models import Partner
from bot.services import bookings
from bot.services.bookings import BookingProblem, BookingRefused
from nlu.dates import date_in_answer, find_dates, when_from_iso, when_label
from nlu.events import booking_event
from nlu.places import find_place
from nlu.relations import RELATION_LABELS, find_relations, is_eligible


def kind_of(tracker: Tracker) -> str:
    return str(tracker.get_slot("booking_kind") or "moving")


async def partner_for(ctx: Context, kind: str) -> Partner | None:
    return await bookings.partner_for(ctx.session, kind)


def relation_label(code: str | None) -> str:
    return RELATION_LABELS.get(code or "", code or "")


# A booking's answers; ``booking_kind`` itself comes from the intent that started it.
ANSWER_SLOTS = ("event_relation", "event_date", "event_place", "booking_confirm")


def kind_before_this_message(tracker: Tracker) -> str | None:
    """The booking kind as it stood before the latest user message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == "booking_kind":
            value = event.get("value")
            return str(value) if value else None
    return None


def without_other_kinds_answers(tracker: Tracker) -> Tracker | None:
    """The tracker as if the booking had just started, when this message starts a booking of
    another kind (a funeral left at its confirmation, then "이사대행 신청할게요"); else None.

    The earlier booking's relation, date and place are forgotten, and so is this message taken
    as the answer to the earlier booking's question; what this message itself says is kept.
    """
    new_kind = tracker.slots_to_validate().get("booking_kind")
    old_kind = kind_before_this_message(tracker)
    if not new_kind or not old_kind or new_kind == old_kind:
        return None
    asked = tracker.get_slot("requested_slot")
    events = list(tracker.events)
    last_user = max(i for i, e in enumerate(events) if e.get("event") == "user")
    kept = events[: last_user + 1] + [
        e
        for e in events[last_user + 1 :]
        if not (e.get("event") == "slot" and e.get("name") == asked and asked in ANSWER_SLOTS)
    ]
    fresh = {name: None for name in ANSWER_SLOTS}
    fresh.update({k: v for k, v in tracker.slots_to_validate().items() if k != asked})
    # Nothing of the new booking has been asked yet: the message is its opening message.
    slots = {**tracker.slots, **fresh, "booking_kind": new_kind, "requested_slot": None}
    return dataclasses.replace(tracker, slots=slots, events=kept)


# Intents of a message that is no answer when it names no place either.
OFF_TOPIC = frozenset({"out_of_scope", "nlu_fallback", "ask_policy", "thank", "greet"})
# "제 집이 팔려서 …": the speaker's own event, though no kinship word is said.
_FIRST_PERSON = re.compile(r"(?<![가-힣])(?:제|저희|우리|내|저)\s")


def refusal(problem: BookingProblem, kind: str, *, said: str | None = None) -> str:
    """The polite Korean reason for a booking problem, the same in the form and at submit.

    ``said``: the relation in the customer's own words ("장모님"), when the form has them.
    """
    if problem.reason == "ineligible":
        relation = said or relation_label(problem.relation)
        noun = texts.BOOKING_NOUN.get(kind, "제휴")
        return texts.RELATION_INELIGIBLE.format(relation=relation, noun=noun)
    if problem.reason == "no_relation":
        return texts.RELATION_UNREADABLE
    if problem.reason == "no_date":
        return texts.DATE_UNREADABLE
    if problem.reason == "past_date" and problem.when is not None:
        return texts.DATE_PAST.format(date=when_label(problem.when))
    if problem.reason == "no_place":
        return texts.PLACE_TOO_SHORT
    if problem.reason == "not_verified":
        return texts.BOOKING_NOT_VERIFIED
    return texts.BOOKING_KIND_UNKNOWN


def given_in(tracker: Tracker) -> dict[str, str]:
    """The relation, date and place the latest message states, as the customer said them."""
    text = tracker.text
    found: dict[str, str] = {}
    # "딸 말고 아들이요", "12월 12일 말고 19일": what comes after 말고 / 아니고 is meant.
    meant = re.split(r"말고|아니고|아니라", text)[-1]
    relations = find_relations(meant) or find_relations(text)
    if relations:
        # relation_code picks the family member over the speaker
        found["event_relation"] = meant if find_relations(meant) else text
    elif tracker.requested_slot is None and _FIRST_PERSON.search(text + " "):
        found["event_relation"] = "본인"
    dates = find_dates(meant, clock.clock.seoul_now()) or find_dates(text, clock.clock.seoul_now())
    if dates:
        found["event_date"] = dates[-1].text
    span = find_place(text)
    place = span.text if span else learned_place(tracker)
    if place:
        found["event_place"] = place
    return found


def learned_place(tracker: Tracker) -> str | None:
    """The ``place`` DIET tagged in the latest message, from its first to its last span."""
    spans = [
        e
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == "place" and isinstance(e.get("start"), int)
    ]
    if not spans:
        return None
    start = min(int(e["start"]) for e in spans)
    end = max(int(e["end"]) for e in spans)
    return tracker.text[start:end] or None


class ValidateBookingForm(FormRules):
    """Check relation eligibility, understand the date, take the place, confirm."""

    name = "validate_booking_form"
    form = "booking_form"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        fresh = without_other_kinds_answers(tracker)
        if fresh is None:
            return await super().run(dispatcher, tracker, ctx)
        # Clear the other kind's answers first; this message's own answers are set after.
        cleared = [slot_set(name, None) for name in ANSWER_SLOTS]
        return cleared + await super().run(dispatcher, fresh, ctx)

    async def validate_event_relation(
        self, value: Any, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        problem = bookings.relation_problem(str(value or ""))
        if problem is None:
            return {"event_relation": bookings.relation_of(str(value))}
        if problem.reason == "no_relation":
            dispatcher.say(refusal(problem, kind_of(tracker)))
            return {"event_relation": None}
        spans = [s for s in find_relations(str(value)) if s.value == problem.relation]
        said = spans[0].text if spans else str(value).strip()
        dispatcher.say(refusal(problem, kind_of(tracker), said=said))
        # End the form: the submit action sees an ineligible relation and opens nothing.
        return {"event_relation": problem.relation, "requested_slot": None}

    async def validate_event_date(
        self, value: Any, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        now = clock.clock.seoul_now()
        text = str(value or "")
        # A value already normalised (2027-03, 2026-W49) or a customer's answer (내년 3월쯤요).
        parsed = when_from_iso(text) or date_in_answer(text, now)
        problem = bookings.date_problem(parsed, kind_of(tracker), now.date())
        if problem is not None or parsed is None:
            dispatcher.say(refusal(problem or BookingProblem("no_date"), kind_of(tracker)))
            return {"event_date": None}
        return {"event_date": parsed.isoformat()}

    async def validate_event_place(
        self, value: Any, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        place = str(value or "").strip()
        if find_place(place) is None and not learned_place(tracker):
            if given_in(tracker):
                # "12월 19일이에요", "딸 말고 아들이요": a correction (see after_validation).
                return {"event_place": None}
            if tracker.intent in OFF_TOPIC or place.endswith("?"):
                dispatcher.say(texts.NOT_AN_ANSWER)
                return {"event_place": None}
        problem = bookings.place_problem(place)
        if problem is not None:
            dispatcher.say(refusal(problem, kind_of(tracker)))
            return {"event_place": None}
        return {"event_place": place}

    async def validate_booking_confirm(
        self, value: Any, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        answer = yes_or_no(tracker)
        if answer is not None:
            return {"booking_confirm": answer}
        if not given_in(tracker):  # else a correction ("날짜는 12월 6일이에요"): see below
            dispatcher.say(texts.YES_NO_AGAIN)
        return {"booking_confirm": None}

    async def after_validation(
        self, changes: dict[str, Any], dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        """Take every other answer the message gives (whose, when, where), checked like answers.

        "이달 30일에 아빠 이사해요" fills the relation and the date at once; an answer to one
        question may carry another ("어머니가 12월 19일에 이사하세요"). A slot the form holds is
        never replaced, and the one just asked is the form's own answer.
        """
        if changes.get("requested_slot", "") is None:
            return self.forget_if_declined(changes)
        asked = tracker.requested_slot
        if is_cancellation(tracker.text):
            return {}
        if asked is not None and asked not in tracker.slots_to_validate():
            return {}  # not an answer (a question, a topic switch): the form may step aside
        # An answer that is not one for the question but names a relation, date or place
        # replaces the one held: a correction ("날짜는 12월 6일로 해 주세요").
        correcting = asked is not None and changes.get(asked, "") is None
        extra: dict[str, Any] = {}
        for slot, said in given_in(tracker).items():
            held = tracker.get_slot(slot) and not correcting
            if slot == asked or slot in changes or held:
                continue
            validate = getattr(self, f"validate_{slot}")
            result = await validate(said, dispatcher, tracker, ctx)
            extra.update(result)
            if result.get("requested_slot", "") is None:
                return {**extra, **self.forget_if_declined({**changes, **extra})}
        return extra

    @staticmethod
    def forget_if_declined(changes: dict[str, Any]) -> dict[str, Any]:
        """After a refusal the form ends here: forget the booking, so nothing is submitted."""
        relation = changes.get("event_relation")
        if relation and not is_eligible(str(relation)):
            return {**{name: None for name in ANSWER_SLOTS}, "booking_kind": None}
        return {}


class AskEventRelation(Action):
    name = "action_ask_event_relation"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        """Ask whose event it is, in the words that fit the event."""
        dispatcher.say(texts.ASK_RELATION[kind_of(tracker)])
        return []


class AskEventDate(Action):
    name = "action_ask_event_date"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        """Ask the date of the event."""
        dispatcher.say(texts.ASK_DATE[kind_of(tracker)])
        return []


class AskEventPlace(Action):
    name = "action_ask_event_place"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        """Ask where the event takes place."""
        dispatcher.say(texts.ASK_PLACE[kind_of(tracker)])
        return []


class AskBookingConfirm(Action):
    name = "action_ask_booking_confirm"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        """Summarise the booking with the partner's discount and ask for confirmation."""
        kind = kind_of(tracker)
        partner = await partner_for(ctx, kind)
        dispatcher.say(
            texts.BOOKING_CONFIRM.format(
                noun=texts.BOOKING_NOUN[kind],
                relation=relation_label(tracker.get_slot("event_relation")),
                date=date_label(tracker.get_slot("event_date")),
                place=tracker.get_slot("event_place"),
                partner=partner.name if partner else "제휴사",
                discount=partner.discount if partner else "할인",
            ),
            yes_no_buttons(),
        )
        return []


def date_label(value: Any) -> str:
    """The booking's date as the customer and the employee read it (2027년 3월 중)."""
    when = when_from_iso(str(value or ""))
    return when_label(when) if when is not None else str(value or "")


INELIGIBLE_OPENING = texts.RELATION_INELIGIBLE.split("{", 1)[0]


def said_this_turn(tracker: Tracker, opening: str) -> bool:
    """Whether the bot said something starting with ``opening`` since the latest user message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and str(event.get("text") or "").startswith(opening):
            return True
    return False


class SubmitBooking(Action):
    """Open the booking request through the booking service, which checks every rule again
    (funerals are urgent), and name the partner."""

    name = "action_submit_booking"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        kind = str(tracker.get_slot("booking_kind") or "")
        if kind not in bookings.BOOKING_KINDS or cancelled_this_turn(tracker):
            return reset_form("booking_form")
        if said_this_turn(tracker, INELIGIBLE_OPENING):
            # The form has just refused this booking and said why.
            return reset_form("booking_form")
        noun = texts.BOOKING_NOUN[kind]
        problem = bookings.relation_problem(tracker.get_slot("event_relation"))
        if problem is not None and problem.reason == "ineligible":
            # The form ends on an ineligible relation, and its validator says why; a call that
            # did not come from the form is told here. Nothing was asked to be sent.
            dispatcher.say(refusal(problem, kind))
            return reset_form("booking_form")
        if tracker.get_slot("booking_confirm") is not True:
            dispatcher.say(texts.BOOKING_NOT_SENT.format(noun=noun))
            return reset_form("booking_form")
        try:
            request = await bookings.open_booking(
                ctx.session,
                policyholder=ctx.policyholder,
                kind=kind,
                relation=tracker.get_slot("event_relation"),
                event_date=tracker.get_slot("event_date"),
                place=tracker.get_slot("event_place"),
                idempotency_key=form_run_key(tracker, "booking_form"),
                deadlines=ctx.deadlines,
            )
        except BookingRefused as refused:
            dispatcher.say(refusal(refused.problem, kind))
            dispatcher.say(texts.BOOKING_NOT_SENT.format(noun=noun))
            return reset_form("booking_form")
        partner = await partner_for(ctx, kind)
        await tell_opened(
            dispatcher,
            ctx,
            request,
            texts.BOOKING_DONE,
            noun=noun,
            partner=partner.name if partner else "제휴사",
            phone=partner.phone if partner else "",
            discount=partner.discount if partner else "할인",
        )
        if kind == "funeral" and partner is not None:
            dispatcher.say(
                texts.FUNERAL_DONE_EXTRA.format(partner=partner.name, phone=partner.phone)
            )
        return reset_form("booking_form")


def booking_statement(tracker: Tracker) -> str | None:
    """The booking a message outside any form states, or None.

    "이달 30일에 아빠 이사해요", "장모님이 돌아가셨어요": an event word together with when or whose
    it is. An event word alone ("이사 갈 때 주소는 어떻게 바꿔요?") is not taken as a booking.
    """
    kind = booking_event(tracker.text)
    if kind is None:
        return None
    says_more = find_relations(tracker.text) or find_dates(tracker.text, clock.clock.seoul_now())
    return kind if says_more else None


def start_booking(kind: str) -> list[Event]:
    """Start the booking form for ``kind``; it takes what the message says at activation."""
    return [slot_set("booking_kind", kind), followup("booking_form")]
