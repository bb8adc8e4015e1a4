"""Partner bookings (moving, funeral, wedding): the rules, and opening a booking request under them.

The booking form checks each answer with the same rules, but a request is opened only here,
after checking them all again: the form's answers may be stale (a date that has passed since
it was given, a verification revoked meanwhile) or not come from the form at all (a forged
action call, a 네 button pressed long after). A refused booking raises ``BookingRefused`` with
the reason, which the caller words for the customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db.models import Partner, Policyholder, Request, RequestKind
from bot.services.labels import KIND_LABELS
from bot.services.requests import open_request
from bot.services.sla import Deadlines
from nlu.dates import When, last_day, when_from_iso, when_label
from nlu.relations import RELATION_LABELS, is_eligible, relation_code

BOOKING_KINDS: frozenset[str] = frozenset(
    {RequestKind.MOVING, RequestKind.FUNERAL, RequestKind.WEDDING}
)

# A funeral has begun by the time it is booked: the day of death ("어제 돌아가셨어요") is its
# date for the partner, up to a 3일장 ago. Other bookings must not be over yet.
FUNERAL_DAYS_BACK = 3
MIN_PLACE_LENGTH = 2


@dataclass(frozen=True)
class BookingProblem:
    """Why a booking cannot be opened.

    ``reason`` is one of: ``unknown_kind`` (not a moving, funeral or wedding booking),
    ``not_verified`` (the policyholder's verification is not, or no longer, in force),
    ``no_relation`` (whose event it is cannot be read), ``ineligible`` (not the policyholder or
    lineal family, 직계존비속; ``relation`` is the code), ``no_date`` (no day, month or week),
    ``past_date`` (over already; ``when`` is the date) and ``no_place``.
    """

    reason: str
    relation: str | None = None
    when: When | None = None


class BookingRefused(Exception):
    """A booking that breaks the rules; ``problem`` says which."""

    def __init__(self, problem: BookingProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


@dataclass(frozen=True)
class Booking:
    """A booking that keeps every rule: the relation as its code, the date as its value."""

    kind: str
    relation: str
    when: When
    place: str


def relation_of(value: str | None) -> str | None:
    """The relation code of a slot value: a code as the form stores it, or kinship words."""
    text = (value or "").strip()
    return text if text in RELATION_LABELS else relation_code(text)


def relation_problem(relation: str | None) -> BookingProblem | None:
    """Whether the event's person may use partner services (직계존비속 only); None if so."""
    code = relation_of(relation)
    if code is None:
        return BookingProblem("no_relation")
    if not is_eligible(code):
        return BookingProblem("ineligible", relation=code)
    return None


def too_early(value: When, kind: str, today: date) -> bool:
    """Whether a booking's date is already over (a funeral's may have begun recently)."""
    back = FUNERAL_DAYS_BACK if kind == RequestKind.FUNERAL else 0
    return last_day(value) < today - timedelta(days=back)


def date_problem(value: When | None, kind: str, today: date) -> BookingProblem | None:
    """Whether a day, month or week can be booked for ``kind`` on ``today``; None if so.

    A month or week is enough (the partner only needs a rough date); it is over only once its
    last day is.
    """
    if value is None:
        return BookingProblem("no_date")
    if too_early(value, kind, today):
        return BookingProblem("past_date", when=value)
    return None


def place_problem(place: str | None) -> BookingProblem | None:
    """Whether the place says enough for the partner to go there; None if so."""
    if len((place or "").strip()) < MIN_PLACE_LENGTH:
        return BookingProblem("no_place")
    return None


def check_booking(
    *,
    policyholder: Policyholder,
    kind: str | None,
    relation: str | None,
    event_date: str | None,
    place: str | None,
    today: date | None = None,
) -> Booking:
    """The booking after every rule; raises ``BookingRefused`` otherwise.

    ``event_date`` is an ISO day, month or week (``2026-12-05``, ``2027-03``, ``2026-W49``), as
    the form stores it; ``today`` is Seoul's, unless given.
    """
    if kind is None or kind not in BOOKING_KINDS:
        raise BookingRefused(BookingProblem("unknown_kind"))
    if policyholder.verified_at is None:
        raise BookingRefused(BookingProblem("not_verified"))
    when = when_from_iso(event_date or "")
    problem = (
        relation_problem(relation)
        or date_problem(when, kind, today or clock.today())
        or place_problem(place)
    )
    if problem is not None:
        raise BookingRefused(problem)
    code = relation_of(relation)
    assert code is not None and when is not None  # refused above otherwise
    return Booking(kind=kind, relation=code, when=when, place=(place or "").strip())


async def partner_for(session: AsyncSession, kind: str) -> Partner | None:
    """The partner that serves ``kind`` bookings (None if none is registered)."""
    return await session.scalar(select(Partner).where(Partner.kind == kind))


def booking_summary(booking: Booking) -> str:
    """The request's one line for the employee: 장례 서비스: 아버지, 2026년 11월 26일 (목), …"""
    return (
        f"{KIND_LABELS[booking.kind]} 서비스: {RELATION_LABELS[booking.relation]}, "
        f"{when_label(booking.when)}, {booking.place}"
    )


async def open_booking(
    session: AsyncSession,
    *,
    policyholder: Policyholder,
    kind: str | None,
    relation: str | None,
    event_date: str | None,
    place: str | None,
    idempotency_key: str | None = None,
    deadlines: Deadlines,
) -> Request:
    """Check the booking again and open its request (alert queued; a funeral is urgent) in the
    caller's transaction."""
    booking = check_booking(
        policyholder=policyholder,
        kind=kind,
        relation=relation,
        event_date=event_date,
        place=place,
    )
    partner = await partner_for(session, booking.kind)
    return await open_request(
        session,
        policyholder=policyholder,
        kind=booking.kind,
        summary=booking_summary(booking),
        details={
            "relation": booking.relation,
            "date": booking.when.isoformat(),
            "place": booking.place,
            "partner": partner.name if partner else None,
        },
        idempotency_key=idempotency_key,
        deadlines=deadlines,
    )
