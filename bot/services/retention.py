"""Act before a policy lapses: the daily retention job, and what closes a retention task.

Every day from ``retention_hour`` (Seoul) the job looks for policies whose last event is 미납
(unpaid) and whose grace period has not ended, and gives each missed installment once to the
policyholder's employee as a request of kind ``retention``: routed like any request (owner →
deputy → head), with its own SLA (office hours until someone calls or visits) and the usual
escalation. The employee's alert names the policy, the months unpaid, the last day before 실효
and the last contact, with 전화했어요 / 방문했어요 buttons. A call or visit logged on the task —
by those buttons, or ``/call`` / ``/visit`` for that policyholder — is a contact in the ledger
(sender ``employee``, so it counts as the programme reaching them) and closes the task.

The job also tidies up: a task whose premium has since been paid is closed as paid, one whose
policy lapsed or was surrendered is cancelled. Optionally (``MILCHAK_RETENTION_REMINDER``, off
by default) the policyholder gets a polite reminder in the bot with the amount and how to pay.

Prevented lapses are counted from the policy's events after the task opened: paid (정상/부활)
before any 실효/해지 counts as prevented. That is "paid after a task", not proof the task caused it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot import clock
from bot.clock import SEOUL, as_utc
from bot.db.engine import session_scope
from bot.db.inserts import insert_unless_conflict
from bot.db.models import (
    OPEN_STATUSES,
    Contact,
    ContactChannel,
    ContactSender,
    Employee,
    OutboxPurpose,
    Policy,
    PolicyEvent,
    PolicyEventKind,
    Policyholder,
    Request,
    RequestAction,
    RequestEvent,
    RequestKind,
    RequestStatus,
    RetentionTask,
)
from bot.services.casefile import WorkspaceError, require_can_act
from bot.services.labels import won
from bot.services.ledger import record_contact
from bot.services.outbox import enqueue
from bot.services.periodic import run_every
from bot.services.policy_history import (
    CURRENT_KINDS,
    EXIT_KINDS,
    grace_until,
    installments_due,
)
from bot.services.requests import open_request
from bot.services.sla import Deadlines

log = logging.getLogger(__name__)

# --- Korean text ------------------------------------------------------------------------------
SUMMARY = "보험료 미납 {months}개월 · {product} {number} · {grace}까지 납입하지 않으면 실효"
CONTACT_NOTES = {
    ContactChannel.PHONE: "계약 유지 안내 전화",
    ContactChannel.VISIT: "계약 유지 안내 방문",
}
CLOSED_BY_CONTACT = "{channel} 연락으로 완료"
CLOSED_PAID = "보험료 납입 확인: 계약 유지"
CLOSED_LAPSED = "계약 {status}: 유지 관리 종료"
CLOSED_EXPIRED = "유예 기간 종료: 납입 확인 안 됨"
CHANNEL_LABELS = {ContactChannel.PHONE: "전화", ContactChannel.VISIT: "방문"}
NOT_RETENTION = "계약 유지 관리 요청이 아닙니다."
ALREADY_CLOSED = "이미 처리된 계약 유지 관리 요청입니다."
# To the policyholder (해요체), only with MILCHAK_RETENTION_REMINDER=true.
PH_REMINDER = (
    "{name} 님, 국제생명이에요. {product}({number}) 보험료 {amount}이 아직 납입되지 않았어요.\n"
    "{grace}까지 납입해 주시면 계약이 그대로 유지돼요.\n\n"
    "납입 방법\n"
    "· 자동이체 계좌에 잔액을 채워 두시면 다시 출금돼요\n"
    "· 가상계좌 입금이나 카드 납부는 고객센터 {phone}로 문의해 주세요\n"
    "· 담당 직원 {employee}께 연락드리도록 할게요\n\n"
    "이미 납입하셨다면 이 안내는 넘기셔도 괜찮아요. 고마워요."
)


@dataclass(frozen=True)
class Overdue:
    """A policy with an unpaid installment still in its grace period."""

    policy: Policy
    installment: int  # the first unpaid 회차
    due_on: date
    grace_until: date
    months_unpaid: int

    @property
    def amount(self) -> int:
        return self.policy.premium * self.months_unpaid


async def overdue_in_grace(session: AsyncSession, *, today: date) -> list[Overdue]:
    """Policies whose latest event (by ``today``) is 미납 and whose grace period runs today."""
    later = aliased(PolicyEvent)
    newer = exists(
        select(later.id).where(
            later.policy_id == PolicyEvent.policy_id,
            later.occurred_on <= today,
            or_(
                later.occurred_on > PolicyEvent.occurred_on,
                and_(later.occurred_on == PolicyEvent.occurred_on, later.id > PolicyEvent.id),
            ),
        )
    )
    # A grace period is at most two calendar months long: older 미납 rows cannot still be open.
    rows = await session.execute(
        select(PolicyEvent, Policy)
        .join(Policy, Policy.id == PolicyEvent.policy_id)
        .where(
            PolicyEvent.kind == PolicyEventKind.UNPAID,
            PolicyEvent.occurred_on <= today,
            PolicyEvent.occurred_on >= today - timedelta(days=70),
            Policy.status == "active",
            ~newer,
        )
        .order_by(PolicyEvent.occurred_on, Policy.id)
    )
    found = []
    for event, policy in rows.tuples():
        last_day = grace_until(event.occurred_on)
        if last_day < today:
            continue
        paid = event.paid_through or 0
        contract = policy.contract_date or event.occurred_on
        due_count = installments_due(contract, policy.payment_cycle, today)
        found.append(
            Overdue(
                policy=policy,
                installment=paid + 1,
                due_on=event.occurred_on,
                grace_until=last_day,
                months_unpaid=max(due_count - paid, 1),
            )
        )
    return found


async def _last_contact(session: AsyncSession, holder_id: int) -> tuple[str | None, str | None]:
    row = (
        await session.execute(
            select(Contact.created_at, Contact.channel)
            .where(
                Contact.policyholder_id == holder_id,
                Contact.sender.in_((ContactSender.EMPLOYEE, ContactSender.POLICYHOLDER)),
            )
            .order_by(Contact.created_at.desc(), Contact.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None, None
    return as_utc(row[0]).astimezone(SEOUL).date().isoformat(), row[1]


def task_key(policy_id: int, installment: int) -> str:
    return f"retention:{policy_id}:{installment}"


async def open_task(
    session: AsyncSession,
    *,
    overdue: Overdue,
    now: datetime,
    deadlines: Deadlines,
    reminder: bool = False,
    company_phone: str = "1588-0000",
) -> Request | None:
    """Give one missed installment to the policyholder's employee, once; None if done before."""
    policy = overdue.policy
    task_id = await insert_unless_conflict(
        session,
        RetentionTask,
        RetentionTask.key,
        key=task_key(policy.id, overdue.installment),
        policy_id=policy.id,
        installment=overdue.installment,
        due_on=overdue.due_on,
        grace_until=overdue.grace_until,
        opened_at=now,
    )
    if task_id is None:
        return None
    holder = await session.get(Policyholder, policy.policyholder_id)
    assert holder is not None
    last_contact, last_channel = await _last_contact(session, holder.id)
    request = await open_request(
        session,
        policyholder=holder,
        kind=RequestKind.RETENTION,
        summary=SUMMARY.format(
            months=overdue.months_unpaid,
            product=policy.product,
            number=policy.number,
            grace=overdue.grace_until.isoformat(),
        ),
        details={
            "source": "retention_job",
            "policy_number": policy.number,
            "product": policy.product,
            "premium": policy.premium,
            "installment": overdue.installment,
            "due_on": overdue.due_on.isoformat(),
            "grace_until": overdue.grace_until.isoformat(),
            "months_unpaid": overdue.months_unpaid,
            "amount": overdue.amount,
            "last_contact": last_contact,
            "last_contact_channel": last_channel,
        },
        policy_id=policy.id,
        deadlines=deadlines,
    )
    task = await session.get_one(RetentionTask, task_id)
    task.request_id = request.id
    if reminder and holder.telegram_chat_id is not None:
        await _remind(session, holder=holder, overdue=overdue, request=request, phone=company_phone)
        task.reminder_sent_at = now
    await session.flush()
    return request


async def _remind(
    session: AsyncSession, *, holder: Policyholder, overdue: Overdue, request: Request, phone: str
) -> None:
    employee = await session.get(Employee, holder.employee_id) if holder.employee_id else None
    text = PH_REMINDER.format(
        name=holder.name,
        product=overdue.policy.product,
        number=overdue.policy.number,
        amount=won(overdue.amount),
        grace=f"{overdue.grace_until.month}월 {overdue.grace_until.day}일",
        phone=phone,
        employee=employee.display_name if employee else "담당 직원",
    )
    assert holder.telegram_chat_id is not None
    await enqueue(
        session,
        chat_id=holder.telegram_chat_id,
        text=text,
        request_id=request.id,
        policyholder_id=holder.id,
        purpose=OutboxPurpose.RETENTION_REMINDER,
    )
    await record_contact(
        session,
        direction="out",
        sender=ContactSender.BOT,
        text=text,
        policyholder_id=holder.id,
        request_id=request.id,
    )


# --- closing ------------------------------------------------------------------------------------
async def _close(
    session: AsyncSession,
    request: Request,
    *,
    to: RequestStatus,
    action: RequestAction,
    note: str,
    employee: Employee | None,
    now: datetime,
) -> bool:
    """Compare-and-set the task closed (two presses at once: one wins), with its history event.

    The policyholder is not told: they asked for nothing.
    """
    moved = await session.execute(
        update(Request)
        .where(Request.id == request.id, Request.status.in_([str(s) for s in OPEN_STATUSES]))
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(request)
    if not moved.rowcount:  # type: ignore[attr-defined]
        return False
    if request.acknowledged_at is None and employee is not None:
        request.acknowledged_at = now
    if to == RequestStatus.RESOLVED:
        request.resolved_at = now
    if employee is not None:
        request.employee_id = employee.id
    request.due_at = None
    request.handoff_until = None
    session.add(
        RequestEvent(
            request_id=request.id,
            action=action,
            employee_id=employee.id if employee else None,
            note=note,
            created_at=now,
        )
    )
    await session.flush()
    return True


async def log_task_contact(
    session: AsyncSession,
    *,
    request: Request,
    employee: Employee,
    channel: ContactChannel,
    note: str | None = None,
    telegram_update_id: int | None = None,
) -> Contact:
    """The employee called or visited about the task: a ledger contact, and the task closes."""
    if request.kind != RequestKind.RETENTION:
        raise WorkspaceError(NOT_RETENTION)
    if channel not in CONTACT_NOTES:
        raise ValueError(channel)
    await require_can_act(session, employee, request)
    if request.status not in OPEN_STATUSES:
        raise WorkspaceError(ALREADY_CLOSED)
    now = clock.now()
    contact = await record_contact(
        session,
        direction="out",
        sender=ContactSender.EMPLOYEE,
        channel=channel,
        text=(note or CONTACT_NOTES[channel]).strip(),
        policyholder_id=request.policyholder_id,
        employee_id=employee.id,
        request_id=request.id,
        telegram_update_id=telegram_update_id,
    )
    closed = await _close(
        session,
        request,
        to=RequestStatus.RESOLVED,
        action=RequestAction.RESOLVED,
        note=CLOSED_BY_CONTACT.format(channel=CHANNEL_LABELS[channel]),
        employee=employee,
        now=now,
    )
    if not closed:
        raise WorkspaceError(ALREADY_CLOSED)
    return contact


async def close_on_touch(
    session: AsyncSession, *, contact: Contact, employee: Employee
) -> Request | None:
    """A visit or call logged with /visit or /call closes that policyholder's open task."""
    if contact.channel not in CONTACT_NOTES or contact.policyholder_id is None:
        return None
    request = await session.scalar(
        select(Request)
        .where(
            Request.policyholder_id == contact.policyholder_id,
            Request.kind == RequestKind.RETENTION,
            Request.status.in_([str(s) for s in OPEN_STATUSES]),
        )
        .order_by(Request.id)
        .limit(1)
    )
    if request is None:
        return None
    contact.request_id = request.id
    closed = await _close(
        session,
        request,
        to=RequestStatus.RESOLVED,
        action=RequestAction.RESOLVED,
        note=CLOSED_BY_CONTACT.format(channel=CHANNEL_LABELS[ContactChannel(contact.channel)]),
        employee=employee,
        now=clock.now(),
    )
    return request if closed else None


async def sweep(session: AsyncSession, *, today: date, now: datetime) -> int:
    """Close open tasks the policy's events have overtaken (paid, lapsed, grace over)."""
    rows = await session.execute(
        select(Request, RetentionTask)
        .join(RetentionTask, RetentionTask.request_id == Request.id)
        .where(
            Request.kind == RequestKind.RETENTION,
            Request.status.in_([str(s) for s in OPEN_STATUSES]),
        )
    )
    closed = 0
    for request, task in rows.tuples().all():
        latest = await session.scalar(
            select(PolicyEvent.kind)
            .where(PolicyEvent.policy_id == task.policy_id, PolicyEvent.occurred_on <= today)
            .order_by(PolicyEvent.occurred_on.desc(), PolicyEvent.id.desc())
            .limit(1)
        )
        if latest in CURRENT_KINDS:
            done = await _close(
                session, request, to=RequestStatus.RESOLVED, action=RequestAction.RESOLVED,
                note=CLOSED_PAID, employee=None, now=now,
            )  # fmt: skip
        elif latest in EXIT_KINDS:
            status = "실효" if latest == PolicyEventKind.LAPSED else "해지"
            done = await _close(
                session, request, to=RequestStatus.CANCELLED, action=RequestAction.CANCELLED,
                note=CLOSED_LAPSED.format(status=status), employee=None, now=now,
            )  # fmt: skip
        elif task.grace_until < today:
            done = await _close(
                session, request, to=RequestStatus.CANCELLED, action=RequestAction.CANCELLED,
                note=CLOSED_EXPIRED, employee=None, now=now,
            )  # fmt: skip
        else:
            done = False
        closed += done
    return closed


@dataclass(frozen=True)
class RoundResult:
    opened: int
    closed: int
    overdue: int


async def retention_round(
    session: AsyncSession,
    *,
    now: datetime,
    deadlines: Deadlines,
    reminder: bool = False,
    company_phone: str = "1588-0000",
) -> RoundResult:
    """One pass of the daily job in the caller's transaction: tidy up, then open new tasks."""
    today = now.astimezone(SEOUL).date()
    closed = await sweep(session, today=today, now=now)
    overdue = await overdue_in_grace(session, today=today)
    opened = 0
    for item in overdue:
        request = await open_task(
            session,
            overdue=item,
            now=now,
            deadlines=deadlines,
            reminder=reminder,
            company_phone=company_phone,
        )
        opened += request is not None
    return RoundResult(opened=opened, closed=closed, overdue=len(overdue))


async def run_retention_worker(
    sessions: async_sessionmaker[AsyncSession],
    *,
    deadlines: Deadlines,
    hour: int,
    interval: float,
    stop: asyncio.Event,
    reminder: bool = False,
    company_phone: str = "1588-0000",
) -> None:
    """From ``hour`` (Seoul) each day, run ``retention_round`` every ``interval`` seconds.

    Rounds are idempotent (one task per missed installment, by its unique key), so a restart,
    a second process or a later look the same day opens nothing twice.
    """

    async def retention_job() -> None:
        now = clock.now()
        if now.astimezone(SEOUL).time() < time(hour):
            return
        async with session_scope(sessions) as session:
            result = await retention_round(
                session,
                now=now,
                deadlines=deadlines,
                reminder=reminder,
                company_phone=company_phone,
            )
        if result.opened or result.closed:
            log.info("retention: %s task(s) opened, %s closed", result.opened, result.closed)

    await run_every(interval, stop, retention_job, name="retention")


# --- prevented lapses -----------------------------------------------------------------------------
@dataclass
class RetentionOutcomes:
    """Tasks opened in a period and what became of their policies since."""

    opened: int = 0
    contacted: int = 0  # closed by a logged call or visit
    paid: int = 0  # 정상/부활 after the task, before any exit: a prevented lapse
    lapsed: int = 0  # 실효 or 해지 after the task
    pending: int = 0  # neither yet

    @property
    def prevented_share(self) -> float | None:
        decided = self.paid + self.lapsed
        return self.paid / decided if decided else None


async def retention_outcomes(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    department_id: int | None = None,
) -> RetentionOutcomes:
    """Prevented lapses against tasks opened in [since, until)."""
    stmt = (
        select(RetentionTask, Request)
        .join(Request, Request.id == RetentionTask.request_id)
        .where(RetentionTask.opened_at >= since, RetentionTask.opened_at < until)
    )
    if department_id is not None:
        stmt = (
            stmt.join(Policyholder, Policyholder.id == Request.policyholder_id)
            .join(Employee, Employee.id == Policyholder.employee_id)
            .where(Employee.department_id == department_id)
        )
    result = RetentionOutcomes()
    for task, request in (await session.execute(stmt)).tuples().all():
        result.opened += 1
        contacted = await session.scalar(
            select(Contact.id)
            .where(Contact.request_id == request.id, Contact.channel.in_(tuple(CONTACT_NOTES)))
            .limit(1)
        )
        result.contacted += contacted is not None
        opened_day = as_utc(task.opened_at).astimezone(SEOUL).date()
        after = await session.scalars(
            select(PolicyEvent.kind)
            .where(PolicyEvent.policy_id == task.policy_id, PolicyEvent.occurred_on >= opened_day)
            .order_by(PolicyEvent.occurred_on, PolicyEvent.id)
        )
        outcome = next((k for k in after if k in CURRENT_KINDS or k in EXIT_KINDS), None)
        if outcome in CURRENT_KINDS:
            result.paid += 1
        elif outcome in EXIT_KINDS:
            result.lapsed += 1
        else:
            result.pending += 1
    return result
