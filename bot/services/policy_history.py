"""A policy's calendar and state: installments (회차), due dates, the grace period, APE.

Shared by the importer, the demo seed, the persistency figures and the retention job, so that
"when was installment k due", "until when may it still be paid" and "what is this policy's
status now" have one answer everywhere.

Conventions (write them in the import file the same way):

* Installment 1 (1회차) is paid at the contract date; installment k is due ``k - 1`` cycles
  later, on the contract's day of the month (the last day in shorter months).
* A ``normal`` (정상) event means every installment due by then is paid; ``unpaid`` (미납) is
  dated on the due day of the installment that was missed and carries the installments paid
  (``paid_through``) — the missed one is ``paid_through + 1``.
* The grace period (납입최고·유예기간) of an installment due in month m ends on the last day of
  month m + ``GRACE_MONTHS``; unpaid by then, the policy lapses (실효) the next day.
* APE (연납화보험료): the regular premium for a year (installment × installments a year); a
  single premium counts one tenth, the usual industry convention.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.db.models import PolicyEventKind

GRACE_MONTHS = 1

CYCLE_MONTHS: dict[str, int] = {
    "monthly": 1,
    "quarterly": 3,
    "semiannual": 6,
    "annual": 12,
    "single": 0,  # paid once, at the contract
}
CYCLE_LABELS = {
    "monthly": "월납",
    "quarterly": "3개월납",
    "semiannual": "6개월납",
    "annual": "연납",
    "single": "일시납",
}
EVENT_LABELS = {
    PolicyEventKind.NORMAL: "정상",
    PolicyEventKind.UNPAID: "미납",
    PolicyEventKind.LAPSED: "실효",
    PolicyEventKind.REINSTATED: "부활",
    PolicyEventKind.SURRENDERED: "해지",
    PolicyEventKind.PAID_UP: "완납",
    PolicyEventKind.MATURED: "만기",
}
EVENT_BY_LABEL = {label: str(kind) for kind, label in EVENT_LABELS.items()}

# Kinds after which the contract is in force with nothing overdue.
CURRENT_KINDS = frozenset(
    {PolicyEventKind.NORMAL, PolicyEventKind.REINSTATED, PolicyEventKind.PAID_UP}
)
# Kinds after which the contract is no longer in force because the customer left it.
EXIT_KINDS = frozenset({PolicyEventKind.LAPSED, PolicyEventKind.SURRENDERED})
STATUS_OF_KIND = {
    PolicyEventKind.NORMAL: "active",
    PolicyEventKind.UNPAID: "active",
    PolicyEventKind.REINSTATED: "active",
    PolicyEventKind.LAPSED: "lapsed",
    PolicyEventKind.SURRENDERED: "surrendered",
    PolicyEventKind.PAID_UP: "paid_up",
    PolicyEventKind.MATURED: "matured",
}


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, on the same day or the month's last day if shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_index(day: date) -> int:
    """Months since year 0: differences give whole months between two days' months."""
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


def due_date(contract: date, cycle: str, installment: int) -> date:
    """When installment ``installment`` (1-based) falls due."""
    step = CYCLE_MONTHS[cycle]
    return add_months(contract, (installment - 1) * step) if step else contract


def installments_due(contract: date, cycle: str, on: date) -> int:
    """How many installments have fallen due by ``on`` (the first is due at the contract)."""
    if on < contract:
        return 0
    step = CYCLE_MONTHS[cycle]
    if not step:
        return 1
    months = month_index(on) - month_index(contract)
    count = months // step + 1
    # This cycle's installment is due only once its day of the month has come.
    if due_date(contract, cycle, count) > on:
        count -= 1
    return count


def grace_until(due: date) -> date:
    """Last day an installment due on ``due`` may be paid before the policy lapses."""
    return month_end(add_months(due.replace(day=1), GRACE_MONTHS))


def covered_months(paid: int, cycle: str) -> float:
    """Months of cover that ``paid`` installments buy (a single premium covers the whole term)."""
    step = CYCLE_MONTHS[cycle]
    return float("inf") if not step else float(paid * step)


def annualized_premium(premium: int, cycle: str) -> float:
    """APE (연납화보험료) of one policy."""
    step = CYCLE_MONTHS[cycle]
    return premium / 10 if not step else premium * 12 / step


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    kind: str
    occurred_on: date
    paid_through: int | None = None


@dataclass(frozen=True, slots=True)
class PolicyState:
    """What a policy's history says about it on a day."""

    status: str  # active|lapsed|surrendered|paid_up|matured
    paid_installments: int
    next_due_date: date | None  # the first unpaid installment's due day (past when overdue)
    overdue_since: date | None  # due day of the missed installment while 미납


def last_event_on(events: Sequence[HistoryEvent], on: date) -> HistoryEvent | None:
    """The last event dated on or before ``on`` (events in recorded order)."""
    chosen = None
    for event in events:
        if event.occurred_on <= on and (chosen is None or event.occurred_on >= chosen.occurred_on):
            chosen = event
    return chosen


def state_on(
    *, contract: date, cycle: str, events: Iterable[HistoryEvent], on: date
) -> PolicyState:
    """The policy's status, installments paid and next due day on ``on``.

    No event on or before ``on`` means the contract is simply in force (정상) since its date.
    """
    event = last_event_on(list(events), on)
    kind = event.kind if event is not None else PolicyEventKind.NORMAL
    due_now = installments_due(contract, cycle, on)
    single = CYCLE_MONTHS[cycle] == 0
    if kind in (PolicyEventKind.NORMAL, PolicyEventKind.REINSTATED):
        paid = max(due_now, (event.paid_through or 0) if event else 0)
        next_due = None if single else due_date(contract, cycle, paid + 1)
        return PolicyState("active", paid, next_due, None)
    assert event is not None
    paid = event.paid_through or 0
    if kind == PolicyEventKind.UNPAID:
        missed = due_date(contract, cycle, paid + 1)
        return PolicyState("active", paid, missed, missed)
    return PolicyState(STATUS_OF_KIND[PolicyEventKind(kind)], paid, None, None)
