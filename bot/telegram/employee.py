"""Telegram handlers for employees: invite links, alert buttons, the relay, commands.

``register(application)`` declares them with python-telegram-bot's own routing, ahead of the
policyholder handlers (group 0):

- group -2, ``bot.telegram.identity.identify``: for every update in a private chat, whether the
  chat is a linked employee's, read from the database (an invite may have linked it a moment
  ago, in another app process) and kept in the employee-chat filter the handlers below use;
- group -1: alert buttons (``req:…``, ``ret:…`` on retention tasks), invites (``/start emp-<code>``), the commands of
  ``COMMANDS`` (the employee-only ones refused to anyone else), text to relay, and anything else
  in an employee's chat. Each of them ends the update's handling (``ApplicationHandlerStop``), so
  employees never reach the policyholder flow; everything else falls through to it.

Telegram command names must be Latin (a–z, 0–9, _), so the commands are English with Korean
descriptions, registered with setMyCommands for each employee's own chat when it is linked
(policyholders never see them in their menu).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, BotCommand, BotCommandScopeChat, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import clock
from bot.clock import SEOUL, as_utc
from bot.db.engine import session_scope
from bot.db.models import (
    ContactChannel,
    ContactSender,
    Employee,
    OutboxMessage,
    OutboxPurpose,
    Policyholder,
    Request,
)
from bot.services import alerts, casework, labels, outbox, portfolio, relay, retention
from bot.services.casefile import WorkspaceError
from bot.services.invites import START_PREFIX, redeem_invite
from bot.services.labels import REQUEST_STATUS_LABELS
from bot.services.ledger import is_update_stored, record_contact
from bot.services.sla import Deadlines
from bot.telegram import retention as retention_ui
from bot.telegram.alert_edits import refresh_alerts
from bot.telegram.context import services
from bot.telegram.delivery import decorate, send_or_queue
from bot.telegram.identity import EMPLOYEE_CHATS_KEY, employee_chats, identify
from bot.telegram.request_buttons import NOT_FOUND, handle_request_button
from bot.telegram.sender import telegram_sender

log = logging.getLogger(__name__)

# --- Korean text for employees (one place) ------------------------------------------------------
HELP_HEADER = "밀착 직원용 명령어입니다."
HELP_FOOTER = (
    "요청 알림의 [접수] [답장] [완료] [이관] 버튼으로 처리하세요. 알림이나 계약자 메시지에 "
    "텔레그램 '답장'으로 글을 쓰면 계약자에게 전달됩니다."
)
REFUSED = "직원 전용 명령어입니다. 국제생명 직원으로 등록된 분만 사용할 수 있어요."
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
TOUCH_LABELS = {ContactChannel.VISIT: "방문", ContactChannel.PHONE: "전화 상담"}
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
BUTTON_LABELS = {code: label for label, code in alerts.ACTIONS}
REQUEST_BUTTON = r"^req:"
RETENTION_BUTTON = r"^ret:"
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the employee handlers (groups -2 and -1, before the policyholder handlers)."""
    linked_chats = filters.Chat(allow_empty=False)
    application.bot_data[EMPLOYEE_CHATS_KEY] = linked_chats
    new_message = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    from_employee = new_message & linked_chats
    invite = filters.Regex(rf"^/start(@\w+)?\s+{re.escape(START_PREFIX)}")
    employee_only = [command.name for command in COMMANDS if command.employee_only]
    application.add_handler(TypeHandler(Update, identify), group=-2)
    handlers: list[BaseHandler[Any, Any, Any]] = [
        CallbackQueryHandler(on_request_button, pattern=REQUEST_BUTTON),
        CallbackQueryHandler(
            _then_stop(retention_ui.on_retention_button), pattern=RETENTION_BUTTON
        ),
        CommandHandler("start", on_invite, filters=new_message & invite),
        CommandHandler(employee_only, refuse, filters=new_message & ~linked_chats),
        *(
            CommandHandler(command.name, command_callback(command), filters=from_employee)
            for command in COMMANDS
        ),
        # /start and commands we do not have: the help.
        MessageHandler(from_employee & filters.COMMAND, command_callback(HELP_COMMAND)),
        MessageHandler(from_employee, on_employee_message),
        # An edit: the original was handled (and relayed) already; not for the policyholder flow.
        MessageHandler(filters.ChatType.PRIVATE & linked_chats, _ignore),
        CallbackQueryHandler(on_other_button),
    ]
    application.add_handlers(handlers, group=-1)


def _then_stop(handler: Handler) -> Handler:
    """Run ``handler``, then end the update's handling: the policyholder flow never sees it."""

    @wraps(handler)
    async def handle_and_stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await handler(update, context)
        raise ApplicationHandlerStop

    return handle_and_stop


def _sessions(context: ContextTypes.DEFAULT_TYPE) -> async_sessionmaker[AsyncSession]:
    return services(context).sessions


@_then_stop
async def _ignore(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Nothing to do (an edited message in an employee's chat)."""


async def on_other_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button in an employee's chat is only acknowledged; a policyholder's passes on."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None
    if chat is None or chat.id not in employee_chats(context).chat_ids:
        return
    decorate(context.application, "answer to a stray button", query.answer())
    raise ApplicationHandlerStop


# --- invites --------------------------------------------------------------------------------------
@_then_stop
async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Redeem an employee invite for this chat and show the employee commands."""
    assert update.effective_chat is not None and update.message is not None
    chat_id = update.effective_chat.id
    sessions = _sessions(context)
    code = command_args(update.message)[len(START_PREFIX) :].strip()
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
        [BotCommand(command.name, command.menu) for command in COMMANDS],
        scope=BotCommandScopeChat(chat_id),
    )


@_then_stop
async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refuse an employee command from someone else, keeping both messages in the ledger."""
    assert update.message is not None and update.effective_user is not None
    user_id = update.effective_user.id
    sessions = _sessions(context)
    async with session_scope(sessions) as session:
        if await is_update_stored(session, update.update_id):
            return
        policyholder = await session.scalar(
            select(Policyholder).where(Policyholder.telegram_user_id == user_id)
        )
        ph_id = policyholder.id if policyholder else None
        sender = ContactSender.POLICYHOLDER if policyholder else ContactSender.UNKNOWN
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
            session, direction="out", sender=ContactSender.BOT, text=REFUSED, policyholder_id=ph_id
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
@_then_stop
async def on_request_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """접수 / 답장 / 완료 / 이관 on an alert."""
    deadlines = services(context).deadlines

    async def work(session: AsyncSession, action: str, request: Request, employee: Employee) -> str:
        return await _apply_button(session, action, request, employee, deadlines)

    await handle_request_button(
        update, context, actions=BUTTON_LABELS, work=work, press_label=_press_label
    )


def _press_label(action: str, request: Request | None) -> str:
    return f"[{BUTTON_LABELS[action]}] {request.reference if request else ''}"


async def _apply_button(
    session: AsyncSession, action: str, request: Request, employee: Employee, deadlines: Deadlines
) -> str:
    if action == "ack":
        done = await casework.acknowledge(session, request=request, employee=employee)
        return (ACKED if done else ALREADY_ACKED).format(reference=request.reference)
    if action == "done":
        done = await casework.resolve(session, request=request, employee=employee)
        return (RESOLVED if done else ALREADY_RESOLVED).format(reference=request.reference)
    if action == "handover":
        target = await casework.hand_over(
            session, request=request, employee=employee, deadlines=deadlines
        )
        return HANDED_OVER.format(reference=request.reference, employee=target.display_name)
    if action == "reply":
        await casework.start_reply(session, request=request, employee=employee)
        policyholder = await session.get(Policyholder, request.policyholder_id)
        return REPLY_PROMPT.format(
            reference=request.reference, policyholder=policyholder.name if policyholder else ""
        )
    return NOT_FOUND


# --- employee messages ---------------------------------------------------------------------------
@_then_stop
async def on_employee_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text to relay to a policyholder (anything else is answered that only text is relayed)."""
    message = update.message
    assert message is not None
    sessions = _sessions(context)
    async with session_scope(sessions) as session:
        if await is_update_stored(session, update.update_id):  # Telegram delivered it again
            return
        me = await _employee(session, message.chat_id)
        employee_id = me.id
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
                sender=ContactSender.BOT,
                text=answer,
                employee_id=employee_id,
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
        employee_id=employee_id,
        purpose=OutboxPurpose.BOT_REPLY,
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
        request = await relay.request_for_message(
            session,
            chat_id=message.chat_id,
            message_id=message.reply_to_message.message_id,
            text=message.reply_to_message.text,
        )
        if request is None:
            answer = UNKNOWN_REPLY_TARGET
    elif me.reply_request_id is not None:
        request = await session.get(Request, me.reply_request_id)
    if request is None and answer is None:
        answer = HINT
    if request is not None and answer is None:
        try:
            contact = await relay.relay_to_policyholder(
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
                    OutboxMessage.purpose == OutboxPurpose.RELAY_OUT,
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


def command_callback(command: Command) -> Handler:
    """The handler that runs ``command`` for an employee and records the exchange."""

    @_then_stop
    async def run_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None
        sessions = _sessions(context)
        async with session_scope(sessions) as session:
            if await is_update_stored(session, update.update_id):  # delivered again
                return
            me = await _employee(session, message.chat_id)
            employee_id = me.id
            try:
                answer = await command.run(session, me, command_args(message))
            except WorkspaceError as error:
                answer = str(error)
            await _record_exchange(
                session, update, employee=me, said=message.text or f"/{command.name}", answer=answer
            )
        await send_or_queue(
            context.bot,
            sessions,
            chat_id=message.chat_id,
            text=answer,
            employee_id=employee_id,
            purpose=OutboxPurpose.BOT_REPLY,
        )

    return run_command


def command_args(message: Message) -> str:
    """'/visit@milchak_bot 3 메모' → '3 메모': what follows the command, inner spacing kept."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


async def _employee(session: AsyncSession, chat_id: int) -> Employee:
    employee = await session.scalar(select(Employee).where(Employee.telegram_chat_id == chat_id))
    assert employee is not None  # identify found them for this very update
    return employee


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
        sender=ContactSender.EMPLOYEE,
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
        sender=ContactSender.BOT,
        text=answer,
        employee_id=employee.id,
        request_id=request_id,
    )


def _day(moment: Any) -> str:
    return as_utc(moment).astimezone(SEOUL).strftime("%m/%d") if moment else "없음"


async def _mine(session: AsyncSession, employee: Employee, args: str) -> str:
    lines = await portfolio.my_policyholders(session, employee=employee)
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


async def _open(session: AsyncSession, employee: Employee, args: str) -> str:
    requests = await portfolio.open_requests(session, employee=employee)
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
                kind=labels.kind_label(request.kind),
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
    policyholder = await portfolio.find_my_policyholder(session, employee=employee, key=key)
    channel = ContactChannel.VISIT if command == "visit" else ContactChannel.PHONE
    contact = await portfolio.log_touch(
        session,
        employee=employee,
        policyholder=policyholder,
        channel=channel,
        note=note,
    )
    saved = TOUCH_SAVED.format(name=policyholder.name, label=TOUCH_LABELS[channel])
    task = await retention.close_on_touch(session, contact=contact, employee=employee)
    return saved + (TOUCH_CLOSED_TASK.format(reference=task.reference) if task else "")


async def _visit(session: AsyncSession, employee: Employee, args: str) -> str:
    return await _touch(session, employee, "visit", args)


async def _call(session: AsyncSession, employee: Employee, args: str) -> str:
    return await _touch(session, employee, "call", args)


async def _cancel(session: AsyncSession, employee: Employee, args: str) -> str:
    employee.reply_request_id = None
    return REPLY_CANCELLED


async def _help(session: AsyncSession, employee: Employee, args: str) -> str:
    return HELP


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
        await portfolio.set_away(session, employee=employee, start=None, end=None)
        return AWAY_CLEARED
    if len(parts) != 2:
        return AWAY_USAGE
    today = clock.today()
    days = []
    for value in parts:
        try:
            days.append(parse_day(value, today))
        except ValueError:
            return BAD_DATE.format(value=value)
    await portfolio.set_away(session, employee=employee, start=days[0], end=days[1])
    return AWAY_SET.format(start=days[0].isoformat(), end=days[1].isoformat())


# --- the command table: the menu, /help and what is refused to non-employees ---------------------
@dataclass(frozen=True)
class Command:
    name: str  # Latin, as Telegram requires
    menu: str  # its line in the chat's command menu
    help: tuple[str, ...]  # its lines in /help
    employee_only: bool  # refused to anyone else; the others fall through to the policyholder
    run: Callable[[AsyncSession, Employee, str], Awaitable[str]]


COMMANDS: tuple[Command, ...] = (
    Command(
        "mine",
        "내 담당 계약자 (최근 연락일, 진행 중 요청)",
        ("/mine — 내 담당 계약자 목록 (번호, 최근 연락일, 진행 중 요청)",),
        True,
        _mine,
    ),
    Command("open", "처리 중인 요청", ("/open — 처리 중인 요청",), True, _open),
    Command(
        "visit",
        "방문 기록: /visit 번호 메모",
        ("/visit 번호 메모 — 방문 기록 (예: /visit 3 현관에서 판촉물 전달)",),
        True,
        _visit,
    ),
    Command(
        "call",
        "전화 상담 기록: /call 번호 메모",
        ("/call 번호 메모 — 전화 상담 기록",),
        True,
        _call,
    ),
    Command(
        "away",
        "부재 등록: /away 시작일 종료일 · 해제: /away off",
        (
            "/away 2026-12-01 2026-12-05 — 부재 등록 (그동안 새 알림은 대리 담당자에게 갑니다)",
            "/away off — 부재 해제",
        ),
        True,
        _away,
    ),
    Command("cancel", "답장 입력 취소", (), False, _cancel),
    Command("help", "직원용 도움말", (), False, _help),
)
HELP_COMMAND = next(command for command in COMMANDS if command.name == "help")
HELP = "\n".join([HELP_HEADER, *(line for c in COMMANDS for line in c.help), "", HELP_FOOTER])
