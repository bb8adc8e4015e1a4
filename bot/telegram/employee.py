"""Telegram handlers for employees: invite links, alert buttons, relay, commands, ratings.

``register(application)`` adds one handler in group -1, ahead of the policyholder handlers
(group 0). It takes an update — and stops further handling with ``ApplicationHandlerStop`` —
when the sender is a linked employee, when the update is an employee invite
(``/start emp-<code>``), an alert button (``req:…``) or a rating button (``rate:…``, pressed by
a policyholder), or an employee-only command sent by someone who is not an employee (refused).
Everything else falls through to the policyholder handlers.

Telegram command names must be Latin (a–z, 0–9, _), so the commands are English with Korean
descriptions, registered with setMyCommands for each employee's own chat when it is linked
(policyholders never see them in their menu).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot import clock
from bot.clock import SEOUL
from bot.db.engine import session_scope
from bot.db.models import Contact, Employee, OutboxMessage, Policyholder, Request
from bot.services import outbox, retention, workspace
from bot.services.invites import START_PREFIX, redeem_invite
from bot.services.labels import REQUEST_STATUS_LABELS
from bot.services.ledger import record_contact
from bot.services.message_limits import shorten
from bot.services.outbox import reply_markup_from_json, telegram_sender
from bot.services.sla import as_utc
from bot.services.workspace import WorkspaceError
from bot.telegram import retention as retention_ui
from bot.telegram.context import services
from bot.telegram.delivery import decorate, send_or_queue

log = logging.getLogger(__name__)

# --- Korean text for employees (one place) ------------------------------------------------------
COMMANDS: list[tuple[str, str]] = [
    ("mine", "내 담당 계약자 (최근 연락일, 진행 중 요청)"),
    ("open", "처리 중인 요청"),
    ("visit", "방문 기록: /visit 번호 메모"),
    ("call", "전화 상담 기록: /call 번호 메모"),
    ("away", "부재 등록: /away 시작일 종료일 · 해제: /away off"),
    ("cancel", "답장 입력 취소"),
    ("help", "직원용 도움말"),
]
EMPLOYEE_ONLY = {"mine", "open", "visit", "call", "away"}
HELP = (
    "밀착 직원용 명령어입니다.\n"
    "/mine — 내 담당 계약자 목록 (번호, 최근 연락일, 진행 중 요청)\n"
    "/open — 처리 중인 요청\n"
    "/visit 번호 메모 — 방문 기록 (예: /visit 3 현관에서 판촉물 전달)\n"
    "/call 번호 메모 — 전화 상담 기록\n"
    "/away 2026-12-01 2026-12-05 — 부재 등록 (그동안 새 알림은 대리 담당자에게 갑니다)\n"
    "/away off — 부재 해제\n\n"
    "요청 알림의 [접수] [답장] [완료] [이관] 버튼으로 처리하세요. 알림이나 계약자 메시지에 "
    "텔레그램 '답장'으로 글을 쓰면 계약자에게 전달됩니다."
)
REFUSED = "직원 전용 명령어입니다. 국제생명 직원으로 등록된 분만 사용할 수 있어요."
BUTTON_REFUSED = "직원 전용 버튼입니다."
NOT_FOUND = "요청을 찾을 수 없습니다."
ACKED = "✅ {reference} 요청을 접수했습니다. 계약자에게 접수 안내를 보냈습니다."
ALREADY_ACKED = "이미 접수된 요청입니다."
RESOLVED = "✅ {reference} 요청을 완료 처리했습니다. 계약자에게 완료 안내와 평가 요청을 보냈습니다."
ALREADY_RESOLVED = "이미 완료된 요청입니다."
HANDED_OVER = "↪️ {reference} 요청을 {employee}님께 이관했습니다."
REPLY_PROMPT = (
    "✍️ {reference} · {policyholder} 님께 보낼 내용을 입력해 주세요.\n"
    "보내신 글은 이름과 직함이 붙어 전달됩니다. 취소: /cancel"
)
REPLY_CANCELLED = "답장 입력을 취소했습니다."
RELAYED = "📨 {policyholder} 님께 전달했습니다."
RELAY_QUEUED = (
    "⏳ {policyholder} 님께 보낼 메시지를 전송 대기열에 넣었습니다. 텔레그램이 지금 받지 않아 "
    "자동으로 다시 보냅니다. 전달되지 않으면 관리 콘솔의 '발송 실패'에 표시됩니다."
)
RELAY_FAILED = (
    "⚠️ {policyholder} 님께 전달하지 못했습니다. 계약자가 챗봇을 차단했을 수 있어요. "
    "전화로 연락해 주세요."
)
ALERT_POINTER = "(전체 내용은 관리 콘솔의 요청 {reference}에서 확인하세요.)"
RELAY_NO_CHAT = (
    "계약자가 텔레그램으로 연결되어 있지 않아 전달하지 못했습니다. 전화로 연락해 주세요."
)
UNKNOWN_REPLY_TARGET = (
    "어느 요청에 대한 답장인지 찾지 못했습니다. 요청 알림이나 계약자 메시지에 답장해 주세요."
)
TEXT_ONLY = "글(텍스트)만 계약자에게 전달할 수 있습니다."
HINT = "계약자에게 보내려면 요청 알림에 답장하거나 [답장] 버튼을 눌러 주세요. 명령어는 /help 를 보세요."
MINE_EMPTY = "담당 계약자가 없습니다."
MINE_HEADER = "👥 {name}님 담당 계약자 {count}명"
MINE_LINE = "{number}. {name} · {area} · 최근 연락 {last} · 진행 중 {open}건"
OPEN_EMPTY = "처리 중인 요청이 없습니다. 👍"
OPEN_HEADER = "📋 처리 중인 요청 {count}건"
OPEN_LINE = "{urgent}{reference} [{kind}] {policyholder} 님 · {status}{due}"
TOUCH_USAGE = "사용법: /{command} 번호 메모 (번호는 /mine 에서 확인)\n예: /{command} 3 {example}"
TOUCH_EXAMPLES = {"visit": "현관에서 판촉물 전달, 대출 문의 있음", "call": "보험료 납입일 안내"}
TOUCH_LABELS = {"visit": "방문", "phone": "전화 상담"}
TOUCH_SAVED = "📝 {name} 님 {label} 기록을 저장했습니다."
TOUCH_CLOSED_TASK = "\n계약 유지 관리 요청 {reference}도 이 기록으로 완료했습니다."
AWAY_USAGE = "사용법: /away 시작일 종료일 (예: /away 2026-12-01 2026-12-05)\n해제: /away off"
AWAY_SET = (
    "🏖 {start} ~ {end} 부재로 등록했습니다. 그동안 새 요청은 대리 담당자 또는 부서장에게 갑니다."
)
AWAY_CLEARED = "부재를 해제했습니다. 새 요청 알림을 다시 받습니다."
AWAY_STATUS = "현재 부재 등록: {start} ~ {end}\n해제하려면 /away off"
AWAY_NONE = "부재 등록이 없습니다.\n" + AWAY_USAGE
BAD_DATE = "날짜를 이해하지 못했습니다: {value} (예: 2026-12-01)"
# Policyholder-facing (해요체)
RATING_EXPIRED = "이미 평가가 끝났거나 평가할 수 없는 요청이에요."
RATING_THANKS_TOAST = "고마워요!"
BUTTON_LABELS = {"ack": "접수", "reply": "답장", "done": "완료", "handover": "이관"}
EDIT_ATTEMPTS = 4
MAX_EDIT_WAIT = 30.0  # seconds; a longer flood-control wait is not worth holding a task for


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the employee workspace handler (group -1, before the policyholder handlers)."""
    application.add_handler(TypeHandler(Update, dispatch), group=-1)


async def dispatch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take the update if it belongs to the employee workspace; otherwise let it pass."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    sessions = _sessions(context)
    query = update.callback_query
    if query is not None and query.data:
        if query.data.startswith("rate:"):
            await on_rating_button(update, context, sessions)
            raise ApplicationHandlerStop
        if query.data.startswith("req:"):
            await on_request_button(update, context, sessions)
            raise ApplicationHandlerStop
        if query.data.startswith("ret:"):
            await retention_ui.on_retention_button(update, context, sessions)
            raise ApplicationHandlerStop
    message = update.message
    text = message.text if message is not None and message.text else ""
    command, args = parse_command(text, context.bot.username)
    if command == "start" and args.startswith(START_PREFIX):
        await on_invite(update, context, sessions, args[len(START_PREFIX) :].strip())
        raise ApplicationHandlerStop

    async with sessions() as session:
        employee = await session.scalar(
            select(Employee).where(Employee.telegram_chat_id == chat.id)
        )
    if employee is None:
        if command in EMPLOYEE_ONLY:
            await refuse(update, context, sessions)
            raise ApplicationHandlerStop
        return
    if query is not None:  # some other button in an employee chat
        decorate(context.application, "answer to a stray button", query.answer())
        raise ApplicationHandlerStop
    if message is None:  # an edit: the original was handled (and relayed) already
        raise ApplicationHandlerStop
    await on_employee_message(update, context, sessions, employee, command, args)
    raise ApplicationHandlerStop


def _sessions(context: ContextTypes.DEFAULT_TYPE) -> async_sessionmaker[AsyncSession]:
    return services(context).sessions


def parse_command(text: str, bot_username: str | None) -> tuple[str | None, str]:
    """'/visit@milchak_bot 3 메모' → ('visit', '3 메모'); plain text → (None, text)."""
    match = re.match(r"^/([A-Za-z0-9_]+)(?:@(\w+))?(?:\s+(.*))?$", text.strip(), re.DOTALL)
    if match is None:
        return None, text
    name, mention, rest = match.groups()
    if mention and bot_username and mention.lower() != bot_username.lower():
        return None, text
    return name.lower(), (rest or "").strip()


# --- invites --------------------------------------------------------------------------------------
async def on_invite(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    sessions: async_sessionmaker[AsyncSession],
    code: str,
) -> None:
    """Redeem an employee invite for this chat and show the employee commands."""
    assert update.effective_chat is not None and update.message is not None
    chat_id = update.effective_chat.id
    async with session_scope(sessions) as session:
        redemption = await redeem_invite(session, code=code, chat_id=chat_id)
    await send_or_queue(context.bot, sessions, chat_id=chat_id, text=redemption.message)
    if redemption.outcome == "linked":
        try:
            await set_employee_commands(context.bot, chat_id)
        except TelegramError:
            log.warning("could not set employee commands for chat %s", chat_id, exc_info=True)


async def set_employee_commands(bot: Bot, chat_id: int) -> None:
    """Show the employee commands (Korean descriptions) in this employee's chat menu only."""
    await bot.set_my_commands(
        [BotCommand(name, description) for name, description in COMMANDS],
        scope=BotCommandScopeChat(chat_id),
    )


async def refuse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Refuse an employee command from someone else, keeping both messages in the ledger."""
    assert update.message is not None and update.effective_user is not None
    user_id = update.effective_user.id
    async with session_scope(sessions) as session:
        seen = await session.scalar(
            select(Contact.id).where(Contact.telegram_update_id == update.update_id)
        )
        if seen is not None:
            return
        policyholder = await session.scalar(
            select(Policyholder).where(Policyholder.telegram_user_id == user_id)
        )
        ph_id = policyholder.id if policyholder else None
        sender = "policyholder" if policyholder else "unknown"
        await record_contact(
            session,
            direction="in",
            sender=sender,
            text=update.message.text or "",
            policyholder_id=ph_id,
            telegram_user_id=user_id,
            telegram_update_id=update.update_id,
            telegram_message_id=update.message.message_id,
        )
        answer = await record_contact(
            session, direction="out", sender="bot", text=REFUSED, policyholder_id=ph_id
        )
    await send_or_queue(
        context.bot,
        sessions,
        chat_id=update.message.chat_id,
        text=REFUSED,
        contact_id=answer.id,
        policyholder_id=ph_id,
    )


# --- alert buttons -----------------------------------------------------------------------------
async def on_request_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """접수 / 답장 / 완료 / 이관 on an alert."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_chat is not None
    chat_id = update.effective_chat.id
    try:
        _, action, raw_id = query.data.split(":", 2)
        request_id = int(raw_id)
    except ValueError:
        decorate(context.application, "answer to a malformed button", query.answer())
        return
    async with session_scope(sessions) as session:
        employee = await session.scalar(
            select(Employee).where(Employee.telegram_chat_id == chat_id)
        )
        if employee is None:
            decorate(
                context.application,
                "refusing a button",
                query.answer(BUTTON_REFUSED, show_alert=True),
            )
            return
        if await _seen(session, update.update_id):  # Telegram delivered this press again
            return
        request = await session.get(Request, request_id)
        if request is None:
            answer = NOT_FOUND
        else:
            try:
                answer = await _apply_button(session, action, request, employee)
            except WorkspaceError as error:
                answer = str(error)
        await _record_exchange(
            session,
            update,
            employee=employee,
            said=f"[{BUTTON_LABELS.get(action, action)}] {request.reference if request else ''}",
            answer=answer,
            request_id=request.id if request is not None else None,
        )
        employee_id = employee.id
        reply_to = query.message.message_id if query.message is not None else None
    # Stored: now the press may be answered (a failure there costs nothing).
    decorate(context.application, "answer to an alert button", query.answer())
    await send_or_queue(
        context.bot,
        sessions,
        chat_id=chat_id,
        text=answer,
        reply_to_message_id=reply_to,
        employee_id=employee_id,
        purpose="bot_reply",
    )
    if request is not None:
        # In the background: a 429 on the edit must not hold up this chat's next updates.
        context.application.create_task(
            refresh_alerts(context.bot, sessions, request.id), update=update
        )


async def _apply_button(
    session: AsyncSession, action: str, request: Request, employee: Employee
) -> str:
    if action == "ack":
        done = await workspace.acknowledge(session, request=request, employee=employee)
        return (ACKED if done else ALREADY_ACKED).format(reference=request.reference)
    if action == "done":
        done = await workspace.resolve(session, request=request, employee=employee)
        return (RESOLVED if done else ALREADY_RESOLVED).format(reference=request.reference)
    if action == "handover":
        target = await workspace.hand_over(session, request=request, employee=employee)
        return HANDED_OVER.format(reference=request.reference, employee=target.display_name)
    if action == "reply":
        await workspace.start_reply(session, request=request, employee=employee)
        policyholder = await session.get(Policyholder, request.policyholder_id)
        return REPLY_PROMPT.format(
            reference=request.reference, policyholder=policyholder.name if policyholder else ""
        )
    return NOT_FOUND


async def refresh_alerts(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    request_id: int,
    *,
    attempts: int = EDIT_ATTEMPTS,
) -> None:
    """Edit every alert about the request to show its current status and history.

    Telegram errors are retried: after a 429 once ``retry_after`` has passed (at most
    ``MAX_EDIT_WAIT``), after a network error with a short backoff. Each attempt reads the
    request afresh, so a late retry never puts back an older status; and refreshes of one
    request take turns (read, then edit), so one that read the request before a 완료 cannot
    land its edit after the 완료's.
    """
    only: set[tuple[int, int]] | None = None
    for attempt in range(attempts):
        async with _alert_turn(request_id):
            outcome = await _edit_alerts(bot, sessions, request_id, attempt, only)
        if outcome is None or not outcome[0]:
            return
        only, wait = outcome
        if attempt + 1 < attempts:
            await asyncio.sleep(min(wait, MAX_EDIT_WAIT))
    log.warning("alerts of request %s not edited after %s attempts: %s", request_id, attempts, only)


@dataclass
class _Turns:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


_ALERT_TURNS: dict[int, _Turns] = {}


@contextlib.asynccontextmanager
async def _alert_turn(request_id: int) -> AsyncIterator[None]:
    """One refresh of a request's alerts at a time (in this process); idle requests cost nothing."""
    turns = _ALERT_TURNS.setdefault(request_id, _Turns())
    turns.users += 1
    try:
        async with turns.lock:
            yield
    finally:
        turns.users -= 1
        if turns.users == 0:
            del _ALERT_TURNS[request_id]


async def _edit_alerts(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    request_id: int,
    attempt: int,
    only: set[tuple[int, int]] | None,
) -> tuple[set[tuple[int, int]], float] | None:
    """One round of edits; the alerts to retry and how long to wait, or None when gone."""
    async with sessions() as session:
        request = await session.get(Request, request_id)
        if request is None:
            return None
        text, markup = await workspace.alert_view(session, request)
        text = shorten(text, pointer=ALERT_POINTER.format(reference=request.reference))
        targets = await workspace.alert_messages(session, request)
    if only is not None:
        targets = [t for t in targets if t in only]
    pending: set[tuple[int, int]] = set()
    wait = 0.0
    for chat_id, message_id in targets:
        try:
            await bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=reply_markup_from_json(markup, bot),  # type: ignore[arg-type]
            )
        except RetryAfter as error:
            pending.add((chat_id, message_id))
            wait = max(wait, _seconds(error.retry_after))
        except BadRequest as error:  # "message is not modified" and the like: nothing to do
            log.debug("alert %s/%s not edited: %s", chat_id, message_id, error)
        except Forbidden:
            log.warning("alert %s/%s not edited: bot blocked", chat_id, message_id)
        except (NetworkError, TelegramError) as error:
            pending.add((chat_id, message_id))
            wait = max(wait, float(2**attempt))
            log.info("alert %s/%s not edited yet: %s", chat_id, message_id, error)
    return pending, wait


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- employee messages ---------------------------------------------------------------------------
async def on_employee_message(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    sessions: async_sessionmaker[AsyncSession],
    employee: Employee,
    command: str | None,
    args: str,
) -> None:
    """Commands, or text to relay to a policyholder."""
    message = update.message
    assert message is not None
    if command is not None:
        await on_command(update, context, sessions, employee, command, args)
        return
    async with session_scope(sessions) as session:
        if await _seen(session, update.update_id):  # Telegram delivered this update again
            return
        me = await session.get(Employee, employee.id)
        assert me is not None
        answer, request_id, policyholder_name = await _relay(session, update, me)
    if answer is None:  # relayed (and stored as the relay); say whether Telegram took it
        assert request_id is not None
        status = await _deliver_relay(context.bot, sessions, request_id)
        answer = {"sent": RELAYED, "failed": RELAY_FAILED}.get(status, RELAY_QUEUED).format(
            policyholder=policyholder_name
        )
        async with session_scope(sessions) as session:
            await record_contact(
                session,
                direction="out",
                sender="bot",
                text=answer,
                employee_id=employee.id,
                request_id=request_id,
            )
        context.application.create_task(
            refresh_alerts(context.bot, sessions, request_id), update=update
        )
    await send_or_queue(
        context.bot,
        sessions,
        chat_id=message.chat_id,
        text=answer,
        employee_id=employee.id,
        purpose="bot_reply",
    )


async def _relay(
    session: AsyncSession, update: Update, me: Employee
) -> tuple[str | None, int | None, str]:
    """Relay the employee's text to the policyholder it answers, in the caller's transaction.

    Returns (None, request id, policyholder name) once relayed; otherwise the answer to give
    the employee, after storing their message and that answer.
    """
    message = update.message
    assert message is not None
    request: Request | None = None
    answer: str | None = None
    if not message.text:
        answer = TEXT_ONLY
    elif message.reply_to_message is not None:
        request = await workspace.request_for_message(
            session, chat_id=message.chat_id, message_id=message.reply_to_message.message_id
        )
        if request is None:
            answer = UNKNOWN_REPLY_TARGET
    elif me.reply_request_id is not None:
        request = await session.get(Request, me.reply_request_id)
    if request is None and answer is None:
        answer = HINT
    if request is not None and answer is None:
        try:
            contact = await workspace.relay_to_policyholder(
                session,
                request=request,
                employee=me,
                text=message.text or "",
                telegram_update_id=update.update_id,
            )
        except WorkspaceError as error:
            answer = str(error)
        else:
            if contact is None:
                answer = RELAY_NO_CHAT
            else:
                policyholder = await session.get(Policyholder, request.policyholder_id)
                return None, request.id, policyholder.name if policyholder else ""
    assert answer is not None
    said = message.text or texts_of_media(message)
    await _record_exchange(
        session,
        update,
        employee=me,
        said=said,
        answer=answer,
        request_id=request.id if request is not None else None,
    )
    return answer, None, ""


def texts_of_media(message: Any) -> str:
    """What the ledger says for an employee's non-text message."""
    return "[사진]" if message.photo else "[텍스트가 아닌 메시지]"


RELAY_SETTLE_SECONDS = 3.0  # how long to wait for the outbox worker when it took a row first


async def _deliver_relay(
    bot: Bot, sessions: async_sessionmaker[AsyncSession], request_id: int
) -> str:
    """Try to deliver the request's queued relay right away: sent, failed or queued.

    The outbox worker may have claimed a row (a long relay is several) a moment before us: its
    outcome is awaited for a few seconds, so the employee hears what really happened.
    """
    async with sessions() as session:
        ids = list(
            await session.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.request_id == request_id,
                    OutboxMessage.purpose == "relay_out",
                    OutboxMessage.status == outbox.PENDING,
                )
                .order_by(OutboxMessage.id)
            )
        )
    if not ids:
        return "queued"
    await outbox.deliver_due(sessions, telegram_sender(bot), ids=ids)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RELAY_SETTLE_SECONDS
    while True:
        async with sessions() as session:
            statuses = set(
                await session.scalars(select(OutboxMessage.status).where(OutboxMessage.id.in_(ids)))
            )
        if outbox.SENDING not in statuses or loop.time() >= deadline:
            break
        await asyncio.sleep(0.1)
    if statuses == {outbox.SENT}:
        return "sent"
    if outbox.FAILED in statuses:
        return "failed"
    return "queued"


async def on_command(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    sessions: async_sessionmaker[AsyncSession],
    employee: Employee,
    command: str,
    args: str,
) -> None:
    """/mine /open /visit /call /away /cancel /help (and /start for a linked employee)."""
    message = update.message
    assert message is not None
    async with session_scope(sessions) as session:
        if await _seen(session, update.update_id):  # Telegram delivered this command again
            return
        me = await session.get(Employee, employee.id)
        assert me is not None
        try:
            if command == "mine":
                answer = await _mine(session, me)
            elif command == "open":
                answer = await _open(session, me)
            elif command in ("visit", "call"):
                answer = await _touch(session, me, command, args)
            elif command == "away":
                answer = await _away(session, me, args)
            elif command == "cancel":
                me.reply_request_id = None
                answer = REPLY_CANCELLED
            else:
                answer = HELP
        except WorkspaceError as error:
            answer = str(error)
        await _record_exchange(
            session, update, employee=me, said=message.text or f"/{command}", answer=answer
        )
    await send_or_queue(
        context.bot,
        sessions,
        chat_id=message.chat_id,
        text=answer,
        employee_id=employee.id,
        purpose="bot_reply",
    )


async def _seen(session: AsyncSession, update_id: int) -> bool:
    found = await session.scalar(select(Contact.id).where(Contact.telegram_update_id == update_id))
    return found is not None


async def _record_exchange(
    session: AsyncSession,
    update: Update,
    *,
    employee: Employee,
    said: str,
    answer: str,
    request_id: int | None = None,
) -> None:
    """Put what the employee sent the bot (a command, a button press) and the bot's answer in
    the ledger: the employee's rows, with no policyholder (so they are not customer contacts)."""
    message = update.effective_message
    await record_contact(
        session,
        direction="in",
        sender="employee",
        text=said,
        employee_id=employee.id,
        request_id=request_id,
        telegram_user_id=update.effective_user.id if update.effective_user else None,
        telegram_update_id=update.update_id,
        telegram_message_id=message.message_id if message is not None else None,
    )
    await record_contact(
        session,
        direction="out",
        sender="bot",
        text=answer,
        employee_id=employee.id,
        request_id=request_id,
    )


def _day(moment: Any) -> str:
    return as_utc(moment).astimezone(SEOUL).strftime("%m/%d") if moment else "없음"


async def _mine(session: AsyncSession, employee: Employee) -> str:
    lines = await workspace.my_policyholders(session, employee=employee)
    if not lines:
        return MINE_EMPTY
    out = [MINE_HEADER.format(name=employee.display_name, count=len(lines))]
    for line in lines:
        out.append(
            MINE_LINE.format(
                number=line.number,
                name=line.policyholder.name,
                area=line.policyholder.area,
                last=_day(line.last_contact),
                open=line.open_requests,
            )
        )
    return "\n".join(out)


async def _open(session: AsyncSession, employee: Employee) -> str:
    requests = await workspace.open_requests(session, employee=employee)
    if not requests:
        return OPEN_EMPTY
    out = [OPEN_HEADER.format(count=len(requests))]
    for request in requests:
        policyholder = await session.get(Policyholder, request.policyholder_id)
        due = ""
        if request.due_at is not None and request.status == "new":
            due = " · 접수 기한 " + as_utc(request.due_at).astimezone(SEOUL).strftime("%m/%d %H:%M")
        out.append(
            OPEN_LINE.format(
                urgent="🚨 " if request.urgent else "",
                reference=request.reference,
                kind=workspace.kind_label(request.kind),
                policyholder=policyholder.name if policyholder else "",
                status=REQUEST_STATUS_LABELS.get(request.status, request.status),
                due=due,
            )
        )
    return "\n".join(out)


async def _touch(session: AsyncSession, employee: Employee, command: str, args: str) -> str:
    key, _, note = args.partition(" ")
    if not key or not note.strip():
        return TOUCH_USAGE.format(command=command, example=TOUCH_EXAMPLES[command])
    policyholder = await workspace.find_my_policyholder(session, employee=employee, key=key)
    channel = "visit" if command == "visit" else "phone"
    contact = await workspace.log_touch(
        session,
        employee=employee,
        policyholder=policyholder,
        channel=channel,
        note=note,
    )
    saved = TOUCH_SAVED.format(name=policyholder.name, label=TOUCH_LABELS[channel])
    task = await retention.close_on_touch(session, contact=contact, employee=employee)
    return saved + (TOUCH_CLOSED_TASK.format(reference=task.reference) if task else "")


def parse_day(value: str, today: date) -> date:
    """'2026-12-01', '20261201', '12-01' or '12/1' → a date (this year unless given)."""
    value = value.strip()
    for pattern in (r"^(\d{4})-(\d{1,2})-(\d{1,2})$", r"^(\d{4})(\d{2})(\d{2})$"):
        match = re.match(pattern, value)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
    match = re.match(r"^(\d{1,2})[-/.](\d{1,2})$", value)
    if match:
        return date(today.year, int(match.group(1)), int(match.group(2)))
    raise ValueError(value)


async def _away(session: AsyncSession, employee: Employee, args: str) -> str:
    parts = args.split()
    if not parts:
        if employee.away_from is None:
            return AWAY_NONE
        return AWAY_STATUS.format(start=employee.away_from, end=employee.away_until or "미정")
    if parts[0].lower() in ("off", "해제", "clear"):
        await workspace.set_away(session, employee=employee, start=None, end=None)
        return AWAY_CLEARED
    if len(parts) != 2:
        return AWAY_USAGE
    today = clock.now().astimezone(SEOUL).date()
    days = []
    for value in parts:
        try:
            days.append(parse_day(value, today))
        except ValueError:
            return BAD_DATE.format(value=value)
    await workspace.set_away(session, employee=employee, start=days[0], end=days[1])
    return AWAY_SET.format(start=days[0].isoformat(), end=days[1].isoformat())


# --- ratings (pressed by the policyholder) ------------------------------------------------------
async def on_rating_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """rate:<request>:<1-5|skip> from the policyholder who was asked."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    try:
        _, raw_id, value = query.data.split(":", 2)
        request_id = int(raw_id)
    except ValueError:
        decorate(context.application, "answer to a malformed rating", query.answer())
        return
    accepted = False
    async with session_scope(sessions) as session:
        seen = await session.scalar(
            select(Contact.id).where(Contact.telegram_update_id == update.update_id)
        )
        policyholder = await session.scalar(
            select(Policyholder).where(Policyholder.telegram_user_id == update.effective_user.id)
        )
        request = await session.get(Request, request_id)
        if seen is None and policyholder is not None and request is not None:
            if value == "skip":
                if policyholder.rating_pending_request_id == request.id:
                    await workspace.finish_rating(
                        session, request=request, policyholder=policyholder, comment=None
                    )
                    accepted = True
            elif value.isdigit() and request.rating is None:
                accepted = await workspace.rate(
                    session,
                    request=request,
                    policyholder=policyholder,
                    stars=int(value),
                    telegram_update_id=update.update_id,
                )
    decorate(
        context.application,
        "answer to a rating",
        query.answer(RATING_THANKS_TOAST if accepted else RATING_EXPIRED),
    )
    if accepted or seen is None:
        decorate(
            context.application,
            "removing the rating keyboard",
            query.edit_message_reply_markup(reply_markup=None),
        )
