"""The employee's side of a request: acknowledge, resolve, hand over, reply, log visits, be away.

Every action is a ``RequestEvent`` (who, what, when); everything the policyholder is told goes
through the outbox and is a row in the contact ledger. The chain of people a request can move
along is the routing chain: the policyholder's employee → that employee's deputy → the head of
the employee's department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.clock import SEOUL
from bot.db.models import (
    OPEN_STATUSES,
    Contact,
    Employee,
    OutboxMessage,
    Policyholder,
    Request,
    RequestEvent,
    RequestStatus,
)
from bot.services.alerts import alert_text, retention_buttons
from bot.services.labels import REQUEST_KIND_LABELS
from bot.services.ledger import record_contact
from bot.services.masking import mask_personal_numbers
from bot.services.outbox import enqueue
from bot.services.routing import department_head, is_reachable
from bot.services.sla import as_utc, due_at

HANDOFF = timedelta(hours=24)  # the relay stays open this long after the employee's last message
RATING_COMMENT_WINDOW = timedelta(minutes=30)
ALERT_PURPOSES = ("alert", "escalation", "handover", "relay_in")

# --- Korean text the policyholder sees (해요체) -------------------------------------------------
PH_ACKNOWLEDGED = (
    "요청하신 건이 접수됐어요.\n접수 번호: {reference}\n담당: {employee}\n곧 연락드릴게요."
)
PH_RESOLVED = (
    "요청하신 건이 처리됐어요.\n접수 번호: {reference}\n담당: {employee}\n\n"
    "상담은 어떠셨나요? 별점(1~5)을 눌러 주세요."
)
PH_HANDED_OVER = (
    "담당자가 바뀌었어요.\n접수 번호: {reference}\n새 담당: {employee}\n이어서 도와드릴게요."
)
PH_RELAY_SIGNATURE = "{text}\n\n— 국제생명 {employee}"
PH_RELAY_FIRST_NOTE = "\n(이 대화에 메시지를 보내시면 담당 직원에게 바로 전달돼요.)"
PH_RATING_THANKS = (
    "별점 {stars}점, 고마워요! 더 하실 말씀이 있으면 적어 주세요. "
    "없으시면 [건너뛰기]를 눌러 주세요."
)
PH_COMMENT_THANKS = "소중한 의견 고마워요. 담당 직원에게 잘 전할게요."
PH_RATING_DONE = "평가해 주셔서 고마워요."

# --- Korean text employees see (합니다/해요) --------------------------------------------------
EMP_RELAY_IN = (
    "💬 [{reference}] {policyholder} 님:\n{text}\n\n(이 메시지에 답장하면 계약자에게 전달됩니다.)"
)
EMP_RATING = "⭐ [{reference}] {policyholder} 님 평가: {stars}점{comment}"
HISTORY_LABELS = {
    "acknowledged": "접수",
    "resolved": "완료",
    "handed_over": "이관",
    "escalated": "에스컬레이션",
    "rerouted": "재배정",
    "replied": "답장",
}
ESCALATION_NOTE = (
    "⏰ 접수 기한({deadline})이 지나도록 {previous}께서 접수하지 않아 넘어온 요청입니다."
)
HANDOVER_NOTE = "↪️ {previous}께서 이관한 요청입니다."
BLOCKED_NOTE = "⚠️ {previous}께 알림을 보낼 수 없어(텔레그램 차단) 넘어온 요청입니다."
ROLE_LABELS = {"owner": "담당 직원", "deputy": "대리 담당자", "head": "부서장"}


class WorkspaceError(Exception):
    """An action the employee cannot take; ``str(error)`` is the Korean explanation."""


def rating_keyboard(request_id: int) -> dict[str, Any]:
    """Inline keyboard 1–5 for rating a resolved request."""
    row = [{"text": f"{n}⭐", "callback_data": f"rate:{request_id}:{n}"} for n in range(1, 6)]
    return {"inline_keyboard": [row]}


def skip_comment_keyboard(request_id: int) -> dict[str, Any]:
    """One button to finish rating without a comment."""
    return {"inline_keyboard": [[{"text": "건너뛰기", "callback_data": f"rate:{request_id}:skip"}]]}


# --- chain and permissions ----------------------------------------------------------------------
@dataclass(frozen=True)
class ChainLink:
    employee: Employee
    role: str  # owner|deputy|head


async def chain_for(session: AsyncSession, request: Request) -> list[ChainLink]:
    """The people who may handle ``request``: owner → deputy → head (no one twice)."""
    policyholder = await session.get(Policyholder, request.policyholder_id)
    owner_id = policyholder.employee_id if policyholder else None
    owner = await session.get(Employee, owner_id) if owner_id else None
    if owner is None and request.employee_id is not None:
        owner = await session.get(Employee, request.employee_id)
    if owner is None:
        return []
    links = [ChainLink(owner, "owner")]
    if owner.deputy_id is not None:
        deputy = await session.get(Employee, owner.deputy_id)
        if deputy is not None:
            links.append(ChainLink(deputy, "deputy"))
    head = await department_head(session, owner.department_id)
    if head is not None:
        links.append(ChainLink(head, "head"))
    seen: set[int] = set()
    unique = []
    for link in links:
        if link.employee.id not in seen:
            seen.add(link.employee.id)
            unique.append(link)
    return unique


async def next_in_chain(
    session: AsyncSession, request: Request, *, after_id: int | None, today: date
) -> ChainLink | None:
    """The first reachable person further along the chain than ``after_id``."""
    chain = await chain_for(session, request)
    ids = [link.employee.id for link in chain]
    start = ids.index(after_id) + 1 if after_id in ids else 0
    for link in chain[start:]:
        if link.employee.id != after_id and is_reachable(link.employee, today):
            return link
    return None


async def can_act(session: AsyncSession, *, employee: Employee, request: Request) -> bool:
    """The assignee, anyone in the request's chain, or anyone alerted about it may act on it."""
    if request.employee_id == employee.id:
        return True
    if any(link.employee.id == employee.id for link in await chain_for(session, request)):
        return True
    alerted = await session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.request_id == request.id, OutboxMessage.employee_id == employee.id
        )
    )
    return alerted is not None


async def _require(session: AsyncSession, employee: Employee, request: Request) -> None:
    if not await can_act(session, employee=employee, request=request):
        raise WorkspaceError(
            "이 요청을 처리할 권한이 없습니다. 담당자 또는 부서장만 처리할 수 있어요."
        )


async def _move(
    session: AsyncSession,
    request: Request,
    allowed: tuple[str, ...],
    to: str,
    now: datetime,
) -> bool:
    """Set ``request.status`` to ``to`` only if the stored status is still one of ``allowed``.

    A compare-and-set in the database, not a check of the loaded object: two employees pressing
    접수 or 완료 at the same moment (updates run concurrently) must not both succeed. The loser's
    ``request`` is refreshed so the caller sees the status that won.
    """
    moved = await session.execute(
        update(Request)
        .where(Request.id == request.id, Request.status.in_(allowed))
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(request)
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def _event(
    session: AsyncSession, request: Request, action: str, employee: Employee | None, note: str = ""
) -> None:
    session.add(
        RequestEvent(
            request_id=request.id,
            action=action,
            employee_id=employee.id if employee else None,
            note=note,
            created_at=clock.now(),
        )
    )


def _today() -> date:
    return clock.now().astimezone(SEOUL).date()


# --- telling the policyholder -------------------------------------------------------------------
async def notify_policyholder(
    session: AsyncSession,
    *,
    request: Request,
    text: str,
    purpose: str,
    employee: Employee | None = None,
    sender: str = "bot",
    reply_markup: dict[str, Any] | None = None,
    telegram_update_id: int | None = None,
) -> Contact | None:
    """Queue ``text`` to the request's policyholder and record it in the ledger.

    Returns None (nothing queued) when the policyholder has no Telegram chat.
    """
    policyholder = await session.get(Policyholder, request.policyholder_id)
    if policyholder is None or policyholder.telegram_chat_id is None:
        return None
    await enqueue(
        session,
        chat_id=policyholder.telegram_chat_id,
        text=text,
        reply_markup=reply_markup,
        request_id=request.id,
        employee_id=employee.id if employee else None,
        policyholder_id=policyholder.id,
        purpose=purpose,
    )
    return await record_contact(
        session,
        direction="out",
        sender=sender,
        text=text,
        policyholder_id=policyholder.id,
        employee_id=employee.id if employee else None,
        request_id=request.id,
        telegram_update_id=telegram_update_id,
    )


# --- actions --------------------------------------------------------------------------------------
async def acknowledge(session: AsyncSession, *, request: Request, employee: Employee) -> bool:
    """접수: the employee takes the request. Returns False when it was already acknowledged."""
    await _require(session, employee, request)
    now = clock.now()
    if not await _move(session, request, (RequestStatus.NEW,), RequestStatus.ACKNOWLEDGED, now):
        if request.status in (RequestStatus.RESOLVED, RequestStatus.CANCELLED):
            raise WorkspaceError("이미 종료된 요청입니다.")
        return False
    request.acknowledged_at = now
    request.employee_id = employee.id
    request.updated_at = now
    _event(session, request, "acknowledged", employee)
    await notify_policyholder(
        session,
        request=request,
        employee=employee,
        purpose="ack_notice",
        text=PH_ACKNOWLEDGED.format(reference=request.reference, employee=employee.display_name),
    )
    await session.flush()
    return True


async def resolve(
    session: AsyncSession, *, request: Request, employee: Employee, note: str = ""
) -> bool:
    """완료: close the request, end any relay, ask the policyholder for a rating."""
    await _require(session, employee, request)
    now = clock.now()
    open_statuses = tuple(
        sorted(set(RequestStatus) - {RequestStatus.RESOLVED, RequestStatus.CANCELLED})
    )
    if not await _move(session, request, open_statuses, RequestStatus.RESOLVED, now):
        if request.status == RequestStatus.CANCELLED:
            raise WorkspaceError("취소된 요청입니다.")
        return False
    if request.acknowledged_at is None:
        request.acknowledged_at = now
    request.resolved_at = now
    request.updated_at = now
    request.employee_id = employee.id
    request.handoff_until = None
    request.due_at = None
    if employee.reply_request_id == request.id:
        employee.reply_request_id = None
    _event(session, request, "resolved", employee, note)
    await notify_policyholder(
        session,
        request=request,
        employee=employee,
        purpose="resolved_notice",
        text=PH_RESOLVED.format(reference=request.reference, employee=employee.display_name),
        reply_markup=rating_keyboard(request.id),
    )
    await session.flush()
    return True


async def reassign(
    session: AsyncSession,
    *,
    request: Request,
    to: ChainLink,
    action: str,
    note: str,
    by: Employee | None,
) -> None:
    """Give ``request`` to ``to``: new deadline, history event, and an alert with the reason."""
    now = clock.now()
    request.employee_id = to.employee.id
    request.status = RequestStatus.NEW
    request.acknowledged_at = None
    request.handoff_until = None
    request.due_at = due_at(request.kind, now)
    request.updated_at = now
    _event(session, request, action, by, f"→ {to.employee.display_name} ({to.role}) {note}".strip())
    policyholder = await session.get(Policyholder, request.policyholder_id)
    assert policyholder is not None
    text = alert_text(request, policyholder, route_reason="owner")
    text += f"\n{note}" if note else ""
    if to.employee.telegram_chat_id is not None:
        await enqueue(
            session,
            chat_id=to.employee.telegram_chat_id,
            text=text,
            reply_markup=alert_markup(request),
            request_id=request.id,
            employee_id=to.employee.id,
            policyholder_id=request.policyholder_id,
            purpose="escalation" if action == "escalated" else "handover",
        )
    await session.flush()


async def hand_over(session: AsyncSession, *, request: Request, employee: Employee) -> Employee:
    """이관: pass the request to the next reachable person (deputy, then head); tell everyone."""
    await _require(session, employee, request)
    if request.status not in OPEN_STATUSES:
        raise WorkspaceError("이미 종료된 요청은 이관할 수 없습니다.")
    current = request.employee_id if request.employee_id is not None else employee.id
    target = await next_in_chain(session, request, after_id=current, today=_today())
    if target is None or target.employee.id == employee.id:
        raise WorkspaceError(
            "이관할 수 있는 담당자가 없습니다. 대리 담당자와 부서장 모두 연락이 닿지 않아요."
        )
    await reassign(
        session,
        request=request,
        to=target,
        action="handed_over",
        note=HANDOVER_NOTE.format(previous=employee.display_name),
        by=employee,
    )
    if employee.reply_request_id == request.id:
        employee.reply_request_id = None
    if request.kind == "retention":  # the policyholder asked for nothing: nothing to tell them
        await session.flush()
        return target.employee
    await notify_policyholder(
        session,
        request=request,
        employee=employee,
        purpose="handover_notice",
        text=PH_HANDED_OVER.format(
            reference=request.reference, employee=target.employee.display_name
        ),
    )
    await session.flush()
    return target.employee


async def reroute_from_blocked(
    session: AsyncSession, *, employee: Employee, request_id: int
) -> Employee | None:
    """The assignee blocked the bot: move their open request on along the chain."""
    request = await session.get(Request, request_id)
    if request is None or request.status not in OPEN_STATUSES or request.employee_id != employee.id:
        return None
    target = await next_in_chain(session, request, after_id=employee.id, today=_today())
    if target is None:
        _event(session, request, "unroutable", employee, "텔레그램 차단, 넘길 담당자 없음")
        return None
    await reassign(
        session,
        request=request,
        to=target,
        action="rerouted",
        note=BLOCKED_NOTE.format(previous=employee.display_name),
        by=None,
    )
    return target.employee


async def start_reply(session: AsyncSession, *, request: Request, employee: Employee) -> None:
    """답장 pressed: the employee's next text goes to this request's policyholder."""
    await _require(session, employee, request)
    if request.status not in OPEN_STATUSES:
        raise WorkspaceError("이미 종료된 요청입니다.")
    employee.reply_request_id = request.id
    await session.flush()


async def relay_to_policyholder(
    session: AsyncSession,
    *,
    request: Request,
    employee: Employee,
    text: str,
    telegram_update_id: int | None = None,
) -> Contact | None:
    """Send the employee's words to the policyholder, signed; open (or extend) the handoff.

    Replying counts as taking the request: a new request becomes in progress.
    Returns None when the policyholder cannot be reached on Telegram.
    """
    await _require(session, employee, request)
    if request.status not in OPEN_STATUSES:
        raise WorkspaceError("이미 종료된 요청입니다. 계약자에게 전달하지 않았습니다.")
    now = clock.now()
    first = request.handoff_until is None or as_utc(request.handoff_until) <= now
    message = PH_RELAY_SIGNATURE.format(
        text=mask_personal_numbers(text.strip()), employee=employee.display_name
    )
    if first:
        message += PH_RELAY_FIRST_NOTE
    contact = await notify_policyholder(
        session,
        request=request,
        employee=employee,
        sender="employee",
        purpose="relay_out",
        text=message,
        telegram_update_id=telegram_update_id,
    )
    if contact is None:
        return None
    if request.acknowledged_at is None:
        request.acknowledged_at = now
    request.status = RequestStatus.IN_PROGRESS
    request.employee_id = employee.id
    request.handoff_until = now + HANDOFF
    request.updated_at = now
    employee.reply_request_id = None
    _event(session, request, "replied", employee)
    await session.flush()
    return contact


async def open_handoff(
    session: AsyncSession, *, policyholder: Policyholder, now: datetime
) -> Request | None:
    """The open request whose relay is running for this policyholder, if any."""
    candidates = await session.scalars(
        select(Request)
        .where(
            Request.policyholder_id == policyholder.id,
            Request.status.in_(OPEN_STATUSES),
            Request.handoff_until.is_not(None),
        )
        .order_by(Request.handoff_until.desc())
    )
    for request in candidates:
        if request.handoff_until is not None and as_utc(request.handoff_until) > now:
            return request
    return None


async def relay_to_employee(
    session: AsyncSession, *, request: Request, policyholder: Policyholder, text: str
) -> bool:
    """Forward the policyholder's message to the request's employee (as a replyable message)."""
    if request.employee_id is None:
        return False
    employee = await session.get(Employee, request.employee_id)
    if employee is None or employee.telegram_chat_id is None:
        return False
    await enqueue(
        session,
        chat_id=employee.telegram_chat_id,
        # The outbox stores the text: personal numbers are masked like everywhere else.
        text=EMP_RELAY_IN.format(
            reference=request.reference,
            policyholder=policyholder.name,
            text=mask_personal_numbers(text),
        ),
        request_id=request.id,
        employee_id=employee.id,
        policyholder_id=policyholder.id,
        purpose="relay_in",
    )
    return True


# --- rating -------------------------------------------------------------------------------------
async def rate(
    session: AsyncSession,
    *,
    request: Request,
    policyholder: Policyholder,
    stars: int,
    telegram_update_id: int | None = None,
) -> bool:
    """Store a 1–5 rating for a resolved request; then invite an optional comment."""
    if request.policyholder_id != policyholder.id or request.status != RequestStatus.RESOLVED:
        return False
    if not 1 <= stars <= 5:
        return False
    now = clock.now()
    request.rating = stars
    _event(session, request, "rated", None, f"{stars}점")
    await record_contact(
        session,
        direction="in",
        sender="policyholder",
        text=f"별점 {stars}점",
        policyholder_id=policyholder.id,
        request_id=request.id,
        telegram_user_id=policyholder.telegram_user_id,
        telegram_update_id=telegram_update_id,
    )
    policyholder.rating_pending_request_id = request.id
    policyholder.rating_pending_until = now + RATING_COMMENT_WINDOW
    await notify_policyholder(
        session,
        request=request,
        purpose="rating_thanks",
        text=PH_RATING_THANKS.format(stars=stars),
        reply_markup=skip_comment_keyboard(request.id),
    )
    await session.flush()
    return True


async def finish_rating(
    session: AsyncSession,
    *,
    request: Request,
    policyholder: Policyholder,
    comment: str | None,
) -> None:
    """Store the comment (or none), thank the policyholder, tell the employee the result."""
    policyholder.rating_pending_request_id = None
    policyholder.rating_pending_until = None
    if comment:
        request.rating_comment = comment.strip()
        _event(session, request, "rating_comment", None, comment.strip())
    await notify_policyholder(
        session,
        request=request,
        purpose="rating_thanks",
        text=PH_COMMENT_THANKS if comment else PH_RATING_DONE,
    )
    if request.employee_id is not None and request.rating is not None:
        employee = await session.get(Employee, request.employee_id)
        if employee is not None and employee.telegram_chat_id is not None:
            await enqueue(
                session,
                chat_id=employee.telegram_chat_id,
                text=EMP_RATING.format(
                    reference=request.reference,
                    policyholder=policyholder.name,
                    stars=request.rating,
                    comment=f"\n“{request.rating_comment}”" if request.rating_comment else "",
                ),
                request_id=request.id,
                employee_id=employee.id,
                policyholder_id=policyholder.id,
                purpose="rating_notice",
            )
    await session.flush()


# --- visits, away, lists --------------------------------------------------------------------------
async def log_touch(
    session: AsyncSession,
    *,
    employee: Employee,
    policyholder: Policyholder,
    channel: str,
    note: str,
    telegram_update_id: int | None = None,
) -> Contact:
    """Record a visit or phone call the employee made (channel ``visit`` or ``phone``)."""
    if channel not in ("visit", "phone"):
        raise ValueError(channel)
    if policyholder.employee_id != employee.id:
        raise WorkspaceError("담당하시는 계약자만 기록할 수 있습니다.")
    return await record_contact(
        session,
        direction="out",
        sender="employee",
        channel=channel,
        text=note.strip(),
        policyholder_id=policyholder.id,
        employee_id=employee.id,
        telegram_update_id=telegram_update_id,
    )


async def set_away(
    session: AsyncSession, *, employee: Employee, start: date | None, end: date | None
) -> None:
    """Set (or with ``None, None`` clear) the employee's absence; routing skips them meanwhile."""
    if start is not None and end is not None and end < start:
        raise WorkspaceError("끝나는 날짜가 시작 날짜보다 빠릅니다.")
    employee.away_from = start
    employee.away_until = end
    await session.flush()


@dataclass(frozen=True)
class PolicyholderLine:
    number: int  # position in the employee's list, used by /visit and /call
    policyholder: Policyholder
    last_contact: datetime | None
    open_requests: int


async def my_policyholders(session: AsyncSession, *, employee: Employee) -> list[PolicyholderLine]:
    """The employee's policyholders by name, with the last contact and open request count."""
    last = (
        select(Contact.policyholder_id, func.max(Contact.created_at).label("last"))
        .group_by(Contact.policyholder_id)
        .subquery()
    )
    open_count = (
        select(Request.policyholder_id, func.count(Request.id).label("n"))
        .where(Request.status.in_(OPEN_STATUSES))
        .group_by(Request.policyholder_id)
        .subquery()
    )
    rows = await session.execute(
        select(Policyholder, last.c.last, open_count.c.n)
        .outerjoin(last, last.c.policyholder_id == Policyholder.id)
        .outerjoin(open_count, open_count.c.policyholder_id == Policyholder.id)
        .where(Policyholder.employee_id == employee.id)
        .order_by(Policyholder.name, Policyholder.id)
    )
    return [
        PolicyholderLine(
            number=i,
            policyholder=ph,
            last_contact=as_utc(when) if isinstance(when, datetime) else None,
            open_requests=n or 0,
        )
        for i, (ph, when, n) in enumerate(rows.all(), start=1)
    ]


async def find_my_policyholder(
    session: AsyncSession, *, employee: Employee, key: str
) -> Policyholder:
    """One of the employee's policyholders by list number or by (unique) name."""
    lines = await my_policyholders(session, employee=employee)
    if key.isdigit():
        for line in lines:
            if line.number == int(key):
                return line.policyholder
        raise WorkspaceError(f"{key}번 계약자가 없습니다. /mine 으로 번호를 확인해 주세요.")
    matches = [line.policyholder for line in lines if line.policyholder.name == key]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise WorkspaceError(f"담당 계약자 중 '{key}' 님이 없습니다. /mine 으로 확인해 주세요.")
    raise WorkspaceError(f"'{key}' 님이 여러 명입니다. /mine 의 번호로 지정해 주세요.")


async def open_requests(session: AsyncSession, *, employee: Employee) -> list[Request]:
    """Open requests assigned to the employee, most urgent deadline first."""
    rows = await session.scalars(
        select(Request)
        .where(Request.employee_id == employee.id, Request.status.in_(OPEN_STATUSES))
        .order_by(Request.urgent.desc(), Request.due_at.is_(None), Request.due_at, Request.id)
    )
    return list(rows.all())


async def request_for_message(
    session: AsyncSession, *, chat_id: int, message_id: int
) -> Request | None:
    """The request a bot message in ``chat_id`` was about (alerts, forwarded customer texts)."""
    request_id = await session.scalar(
        select(OutboxMessage.request_id).where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.telegram_message_id == message_id,
            OutboxMessage.request_id.is_not(None),
        )
    )
    return await session.get(Request, request_id) if request_id is not None else None


# --- the alert as it looks now -------------------------------------------------------------------
def alert_markup(request: Request) -> dict[str, Any] | None:
    """Buttons that still make sense for the request's status."""
    if request.status not in OPEN_STATUSES:
        return None
    if request.kind == "retention":  # closed by logging a call or visit, not by 접수/완료
        return retention_buttons(request.id)
    actions = [("접수", "ack"), ("답장", "reply"), ("완료", "done"), ("이관", "handover")]
    if request.status != RequestStatus.NEW:
        actions = actions[1:]
    row = [{"text": label, "callback_data": f"req:{code}:{request.id}"} for label, code in actions]
    return {"inline_keyboard": [row[:2], row[2:]] if len(row) == 4 else [row]}


async def alert_view(session: AsyncSession, request: Request) -> tuple[str, dict[str, Any] | None]:
    """Text and buttons of the alert for the request's current state, with its history."""
    policyholder = await session.get(Policyholder, request.policyholder_id)
    assert policyholder is not None
    lines = [alert_text(request, policyholder)]
    events = await session.execute(
        select(RequestEvent, Employee)
        .outerjoin(Employee, Employee.id == RequestEvent.employee_id)
        .where(RequestEvent.request_id == request.id, RequestEvent.action.in_(HISTORY_LABELS))
        .order_by(RequestEvent.id)
    )
    history = []
    for event, who in events.all():
        when = as_utc(event.created_at).astimezone(SEOUL).strftime("%m/%d %H:%M")
        name = who.display_name if who else "시스템"
        history.append(f"• {when} {HISTORY_LABELS[event.action]} — {name}")
    if history:
        lines.append("\n".join(["", "처리 기록:", *history[-6:]]))
    return "\n".join(lines), alert_markup(request)


async def alert_messages(session: AsyncSession, request: Request) -> list[tuple[int, int]]:
    """(chat id, message id) of every alert sent about ``request``, to edit them in place."""
    rows = await session.execute(
        select(OutboxMessage.chat_id, OutboxMessage.telegram_message_id).where(
            OutboxMessage.request_id == request.id,
            OutboxMessage.telegram_message_id.is_not(None),
            or_(*(OutboxMessage.purpose == p for p in ("alert", "escalation", "handover"))),
        )
    )
    return [(chat, int(mid)) for chat, mid in rows.all() if mid is not None]


def kind_label(kind: str) -> str:
    """Korean label of a request kind."""
    return REQUEST_KIND_LABELS.get(kind, kind)
