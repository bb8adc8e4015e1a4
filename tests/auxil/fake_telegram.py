"""A fake Telegram Bot API server on loopback for tests.

python-telegram-bot talks to it over real HTTP exactly as it talks to api.telegram.org once the
application is built with ``base_url(fake.base_url)``. Tests push updates (text, contacts,
stickers, callback presses …) that the bot receives through ``getUpdates``, and inspect what the
bot sent.

The fake is no kinder than Telegram: editing a message to what it already shows answers 400
"message is not modified", a message older than 48 hours "can't be edited", a callback query can
be answered once, and texts over 4,096 characters (UTF-16 code units) are refused. Faults can be
injected per method, per chat and per call (``fail``): 429 with ``retry_after``, 400 "message is
not modified" / "message can't be edited", 403 bot blocked, 500, a timeout (the answer comes
after the client gave up), and ``true`` where a Message is expected.

Usage::

    async with FakeTelegram() as fake:
        application = Application.builder().token(fake.token).base_url(fake.base_url)...
        fake.push_text(4242, "안녕하세요")
        message = await fake.wait_for_message(4242)

Webhook mode works like Telegram's: after ``setWebhook`` the fake refuses ``getUpdates`` (409)
and POSTs each pushed update, in order, to the registered URL with the
``X-Telegram-Bot-Api-Secret-Token`` header, recording the HTTP status it got back
(``fake.deliveries``); an update is dropped from the queue only on a 2xx answer, otherwise it is
retried shortly (Telegram backs off longer). ``deliver()`` POSTs one update by hand, e.g. with a
wrong secret or a second time.

Everything runs in the test's event loop (uvicorn served in-process), so waiting helpers are
plain ``asyncio`` conditions.
"""

# Test helpers take `timeout=` like the rest of the test API; they wrap asyncio.wait_for.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DEFAULT_TOKEN = "123456789:TEST-fake-telegram-token"
BOT_USERNAME = "milchak_bot"

# Form bodies carry every value as a string; these are decoded as JSON (numbers, objects).
_JSON_FIELDS = {
    "chat_id",
    "message_id",
    "reply_to_message_id",
    "reply_markup",
    "reply_parameters",
    "offset",
    "limit",
    "timeout",
    "allowed_updates",
    "commands",
    "scope",
    "show_alert",
    "cache_time",
    "disable_web_page_preview",
    "link_preview_options",
    "drop_pending_updates",
    "entities",
    "disable_notification",
    "protect_content",
    "max_connections",
}

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_WEBHOOK_PORTS = {443, 80, 88, 8443}


@dataclass
class SentMessage:
    """A message the bot sent (its current state: edits are applied in place)."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    date: int
    method: str = "sendMessage"
    reply_to_message_id: int | None = None
    edits: list[str] = field(default_factory=list)  # earlier texts, oldest first

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data or url) of every inline button, row by row."""
        out: list[tuple[str, str]] = []
        for row in (self.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                out.append(
                    (button.get("text", ""), button.get("callback_data", button.get("url", "")))
                )
        return out

    @property
    def keyboard(self) -> list[str]:
        """Texts of a reply keyboard's buttons (e.g. the share-contact button)."""
        rows = (self.reply_markup or {}).get("keyboard", [])
        return [b if isinstance(b, str) else b.get("text", "") for row in rows for b in row]


@dataclass
class Call:
    """One Bot API call the bot made, with its decoded parameters."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook and the HTTP status it answered."""

    update_id: int
    status: int  # 0: the connection failed
    at: float
    secret: str | None  # the header sent


EDIT_WINDOW_SECONDS = 48 * 60 * 60  # Telegram: bot messages can be edited for 48 hours
MAX_TEXT_UTF16 = 4096

# Telegram's own answers for the injectable faults: (HTTP status, description).
FAULTS: dict[str, tuple[int, str]] = {
    "flood": (429, "Too Many Requests: retry after {retry_after}"),
    "not_modified": (
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    ),
    "cant_edit": (400, "Bad Request: message can't be edited"),
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "server_error": (500, "Internal Server Error"),
    "timeout": (0, ""),  # no answer until the client has given up
    "true": (200, ""),  # ``true`` instead of the Message the method normally returns
}


@dataclass
class Fault:
    """An injected fault: the matching calls it lets through first, then how often it fires."""

    method: str
    kind: str
    chat_id: int | None
    retry_after: int
    skip: int  # matching calls answered normally before the fault starts
    times: int | None  # None: every matching call from then on
    description: str | None = None
    hang: float = 7.0  # "timeout": seconds before answering (PTB's default read timeout is 5)
    status: int | None = None  # another HTTP status than the kind's (``fail_next`` with e.g. 401)
    seen: int = 0  # matching calls so far
    fired: int = 0  # calls that got the fault

    def matches(self, method: str, chat_id: int | None) -> bool:
        return self.method.lower() == method.lower() and self.chat_id in (None, chat_id)

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handling: Ctrl-C belongs to pytest, not to the fake."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class FakeTelegram:
    """In-process fake Bot API; use as ``async with FakeTelegram() as fake``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = BOT_USERNAME,
        first_update_id: int = 1,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.port = 0
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []  # every update ever pushed, in order
        self.commands: dict[str, list[dict[str, Any]]] = {}  # scope (JSON) → commands
        self.callback_answers: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []  # not yet confirmed by an offset
        self._messages: dict[int, SentMessage] = {}  # bot messages by id
        # The same messages by chat: waiters look up one chat on every change, and a soak's
        # hundred waiters scanning every message ever sent made the fake the bottleneck.
        self._messages_by_chat: dict[int, list[SentMessage]] = defaultdict(list)
        self._user_messages: dict[int, dict[str, Any]] = {}  # user messages by id
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(first_update_id)
        self._callback_ids = itertools.count(1)
        self.faults: list[Fault] = []
        self._callback_queries: set[str] = set()
        self._answered_callbacks: set[str] = set()
        self._blocked: set[int] = set()
        self._changed = asyncio.Condition()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._background: set[asyncio.Future[None]] = set()
        self._delivered: set[int] = set()  # id() of update dicts handed to getUpdates
        # Webhook state, as getWebhookInfo reports it.
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] | None = None
        self.deliveries: list[WebhookDelivery] = []
        self._webhook_retry_delay = webhook_retry_delay
        self._webhook_task: asyncio.Task[None] | None = None
        self._last_error: tuple[int, str] | None = None
        self._http: httpx.AsyncClient | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url`` (the token is appended by PTB)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def __aenter__(self) -> FakeTelegram:
        # IPPROTO_TCP: asyncio then turns Nagle off on accepted connections, as Telegram's
        # servers answer without a ~40 ms delayed-ACK stall (see bot.runner.reuse_port_socket).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        deadline = time.monotonic() + 10
        while not self._server.started:
            if self._task.done():
                self._task.result()
            if time.monotonic() > deadline:
                raise RuntimeError("fake Telegram server did not start")
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        await self._stop_webhook_delivery()
        if self._http is not None:
            await self._http.aclose()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=5)

    # ------------------------------------------------------------------ pushing updates
    def _user(self, user_id: int, first_name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "ko"}

    def _chat(self, user_id: int, first_name: str) -> dict[str, Any]:
        return {"id": user_id, "type": "private", "first_name": first_name}

    def _message(
        self, user_id: int, first_name: str, *, group_id: int | None = None, **content: Any
    ) -> dict[str, Any]:
        chat = (
            self._chat(user_id, first_name)
            if group_id is None
            else {"id": group_id, "type": "group", "title": "가족 단톡방"}
        )
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(user_id, first_name),
            **content,
        }
        self._user_messages[message["message_id"]] = message
        return message

    def push_raw(self, update: dict[str, Any]) -> int:
        """Queue an update as given (e.g. to repeat an update id); returns its update_id."""
        update = dict(update)  # a repeat is a distinct delivery
        if "callback_query" in update:
            self._callback_queries.add(str(update["callback_query"]["id"]))
        self.updates.append(update)
        self._pending.append(update)
        self._notify()
        return int(update["update_id"])

    def message_update(
        self, user_id: int, *, first_name: str = "사용자", **content: Any
    ) -> dict[str, Any]:
        """A private-chat message update with a new update id, built but not queued: for tests
        that POST updates to a webhook themselves (``text=…``, ``contact=…``)."""
        message = self._message(user_id, first_name, **content)
        return {"update_id": next(self._update_ids), "message": message}

    def _push_message(self, user_id: int, first_name: str, **content: Any) -> int:
        message = self._message(user_id, first_name, **content)
        return self.push_raw({"update_id": next(self._update_ids), "message": message})

    def push_edit(self, user_id: int, message_id: int, text: str) -> int:
        """The user edits their earlier text message ``message_id`` (an ``edited_message``)."""
        original = self._user_messages[message_id]
        edited = {**original, "text": text, "edit_date": int(time.time())}
        self._user_messages[message_id] = edited
        return self.push_raw({"update_id": next(self._update_ids), "edited_message": edited})

    def last_user_message_id(self, user_id: int) -> int:
        """The id of the latest message ``user_id`` sent (e.g. to edit it)."""
        return max(m for m, msg in self._user_messages.items() if msg["from"]["id"] == user_id)

    def push_text(
        self,
        user_id: int,
        text: str,
        *,
        reply_to_message_id: int | None = None,
        first_name: str = "사용자",
        group_id: int | None = None,
    ) -> int:
        """A text message from ``user_id``, in their private chat or in the group ``group_id``
        (a negative id); commands get a bot_command entity."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [
                {
                    "type": "bot_command",
                    "offset": 0,
                    "length": len(command.encode("utf-16-le")) // 2,
                }
            ]
        if reply_to_message_id is not None:
            content["reply_to_message"] = self._message_by_id(reply_to_message_id)
        return self._push_message(user_id, first_name, group_id=group_id, **content)

    def push_contact(
        self,
        user_id: int,
        phone: str,
        contact_user_id: int | None,
        *,
        first_name: str = "사용자",
        group_id: int | None = None,
    ) -> int:
        """A shared contact card; ``contact_user_id == user_id`` means the user's own number."""
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._push_message(user_id, first_name, group_id=group_id, contact=contact)

    def push_sticker(self, user_id: int, *, first_name: str = "사용자") -> int:
        """A sticker message."""
        sticker = {
            "file_id": "CAACAgIAAxkBAAIBsticker",
            "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "😀",
        }
        return self._push_message(user_id, first_name, sticker=sticker)

    def push_photo(
        self, user_id: int, *, caption: str | None = None, first_name: str = "사용자"
    ) -> int:
        """A photo message (one size)."""
        photo = [
            {"file_id": "AgACAgphoto", "file_unique_id": "AQADphoto", "width": 90, "height": 90}
        ]
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return self._push_message(user_id, first_name, **content)

    def push_voice(self, user_id: int, *, first_name: str = "사용자") -> int:
        """A voice note."""
        voice = {"file_id": "AwACAgvoice", "file_unique_id": "AgADvoice", "duration": 3}
        return self._push_message(user_id, first_name, voice=voice)

    def push_location(
        self,
        user_id: int,
        *,
        latitude: float = 37.45,
        longitude: float = 126.73,
        first_name: str = "사용자",
    ) -> int:
        """A shared location (default: 인천 남동구)."""
        return self._push_message(
            user_id, first_name, location={"latitude": latitude, "longitude": longitude}
        )

    def push_callback(
        self, user_id: int, data: str, message_id: int, *, first_name: str = "사용자"
    ) -> int:
        """A press on an inline button of the bot message ``message_id``."""
        sent = self._messages.get(message_id)
        if sent is not None:
            message = self._bot_message_json(sent)
        else:  # a message the fake does not know: still a valid (bot) message
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat(user_id, first_name),
                "from": self._bot_user(),
                "text": "",
            }
        query_id = str(next(self._callback_ids))
        self._callback_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._user(user_id, first_name),
            "chat_instance": f"ci-{user_id}",
            "data": data,
            "message": message,
        }
        return self.push_raw({"update_id": next(self._update_ids), "callback_query": query})

    def next_update_id(self) -> int:
        """Reserve an update id (for hand-built updates passed to ``push_raw``)."""
        return next(self._update_ids)

    # ------------------------------------------------------------------ failure injection
    def fail(
        self,
        method: str,
        kind: str,
        *,
        chat_id: int | None = None,
        times: int | None = 1,
        skip: int = 0,
        retry_after: int = 1,
        description: str | None = None,
        hang: float = 7.0,
    ) -> Fault:
        """Make calls of ``method`` (to ``chat_id``, if given) fail like Telegram does.

        ``kind`` is one of ``FAULTS``. The first ``skip`` matching calls are answered normally,
        then ``times`` calls (``None``: all of them) get the fault. The returned ``Fault`` counts
        how often it fired, so a test can check that its fault really happened.
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULTS)}")
        fault = Fault(
            method, kind, chat_id, retry_after, skip, times, description=description, hang=hang
        )
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Answer every call normally again."""
        self.faults.clear()

    def fail_next(
        self,
        method: str,
        chat_id: int | None = None,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
    ) -> Fault:
        """Make the next ``method`` call (to ``chat_id``, if given) fail once with ``status``."""
        kind = {429: "flood", 403: "blocked", 500: "server_error"}.get(status)
        if kind is None:
            kind = "cant_edit" if status == 400 else "server_error"
            description = description or (
                "Bad Request: message text is empty" if status == 400 else "Error"
            )
        fault = self.fail(
            method, kind, chat_id=chat_id, retry_after=retry_after or 1, description=description
        )
        fault.status = status
        return fault

    def age_message(self, message_id: int, *, hours: float) -> None:
        """Pretend the bot message was sent ``hours`` ago (older than 48 h: no more edits)."""
        self._messages[message_id].date = int(time.time() - hours * 3600)

    def block_chat(self, chat_id: int) -> None:
        """Every later send to ``chat_id`` answers 403 "bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        """Undo ``block_chat``."""
        self._blocked.discard(chat_id)

    # ------------------------------------------------------------------ webhook
    async def deliver(self, update: dict[str, Any], *, secret: str | None = None) -> int:
        """POST one update to the webhook now (outside the queue) and return the status.

        ``secret`` replaces the registered secret token in the header (to act as an intruder).
        """
        assert self.webhook_url, "no webhook is set"
        return await self._post_update(update, self.webhook_secret if secret is None else secret)

    def deliveries_of(self, update_id: int) -> list[WebhookDelivery]:
        """The webhook POSTs of one update, oldest first."""
        return [d for d in self.deliveries if d.update_id == update_id]

    async def wait_for_delivery(
        self,
        update_id: int,
        predicate: Callable[[WebhookDelivery], bool] | None = None,
        *,
        timeout: float = 10.0,
    ) -> WebhookDelivery:
        """The first webhook POST of ``update_id`` that matches ``predicate`` (default: 2xx)."""
        wanted = predicate or (lambda d: 200 <= d.status < 300)

        def find() -> WebhookDelivery | None:
            return next((d for d in self.deliveries_of(update_id) if wanted(d)), None)

        return await self._wait(find, timeout, f"webhook delivery of update {update_id}")

    async def _post_update(self, update: dict[str, Any], secret: str | None) -> int:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=60)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        try:
            response = await self._http.post(self.webhook_url, json=update, headers=headers)
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        self.deliveries.append(
            WebhookDelivery(int(update["update_id"]), status, time.monotonic(), secret)
        )
        if not 200 <= status < 300:
            reason = (
                "Connection refused"
                if status == 0
                else f"Wrong response from the webhook: {status}"
            )
            self._last_error = (int(time.time()), reason)
        self._notify()
        return status

    async def _deliver_pending(self) -> None:
        """Telegram's side of a webhook: POST queued updates in order until each gets a 2xx."""
        while not self._closing and self.webhook_url:
            async with self._changed:
                while not self._pending and not self._closing and self.webhook_url:
                    await self._changed.wait()
            if self._closing or not self.webhook_url:
                return
            update = self._pending[0]
            status = await self._post_update(update, self.webhook_secret)
            if 200 <= status < 300:
                with contextlib.suppress(ValueError):
                    self._pending.remove(update)
                self._notify()
            else:
                await asyncio.sleep(self._webhook_retry_delay)

    def _start_webhook_delivery(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_pending())

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ inspection
    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent (to ``chat_id``), oldest first, with edits applied."""
        if chat_id is None:
            return list(self._messages.values())
        return list(self._messages_by_chat.get(chat_id, ()))

    def message(self, message_id: int) -> SentMessage:
        """A bot message by id."""
        return self._messages[message_id]

    def calls_to(self, method: str) -> list[Call]:
        """The calls of one Bot API method."""
        return [c for c in self.calls if c.method == method]

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        timeout: float = 10.0,
        since: int = 0,
    ) -> SentMessage:
        """The first message to ``chat_id`` (skipping the first ``since``) matching ``predicate``.

        The predicate sees each message's current state, so it can also wait for an edit.
        """

        def find() -> SentMessage | None:
            for message in self.sent(chat_id)[since:]:
                if predicate is None or predicate(message):
                    return message
            return None

        return await self._wait(find, timeout, f"message to {chat_id}")

    async def wait_for_count(
        self, chat_id: int, count: int, *, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Wait until at least ``count`` messages were sent to ``chat_id``; return them all."""

        def find() -> list[SentMessage] | None:
            # Counted before copied: every waiter runs this on every Bot API call.
            if len(self._messages_by_chat.get(chat_id, ())) < count:
                return None
            return self.sent(chat_id)

        return await self._wait(find, timeout, f"{count} messages to {chat_id}")

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 10.0,
    ) -> Call:
        """Wait for a call of ``method`` (e.g. answerCallbackQuery) matching ``predicate``."""

        def find() -> Call | None:
            for call in self.calls_to(method):
                if predicate is None or predicate(call):
                    return call
            return None

        return await self._wait(find, timeout, f"call {method}")

    async def wait_until_consumed(self, *, timeout: float = 10.0) -> None:
        """Wait until the bot has fetched and confirmed every pushed update."""
        await self._wait(lambda: True if not self._pending else None, timeout, "updates consumed")

    async def _wait(self, find: Callable[[], Any], timeout: float, what: str) -> Any:
        async def loop() -> Any:
            async with self._changed:
                while True:
                    found = find()
                    if found is not None:
                        return found
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            seen = [(m.chat_id, m.text[:60]) for m in self.sent()][-10:]
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; last: {seen}"
            ) from None

    # ------------------------------------------------------------------ HTTP side
    def _notify(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        task = asyncio.ensure_future(notify())
        self._background.add(task)  # keep a reference until it has run
        task.add_done_callback(self._background.discard)

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "밀착", "username": self.username}

    def _bot_message_json(self, sent: SentMessage) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": sent.date,
            "chat": (
                {"id": sent.chat_id, "type": "private", "first_name": "사용자"}
                if sent.chat_id > 0
                else {"id": sent.chat_id, "type": "group", "title": "가족 단톡방"}
            ),
            "from": self._bot_user(),
            "text": sent.text,
        }
        if sent.edits:
            message["edit_date"] = int(time.time())
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        if sent.reply_to_message_id is not None:
            with contextlib.suppress(KeyError):
                message["reply_to_message"] = self._message_by_id(sent.reply_to_message_id)
        return message

    def _message_by_id(self, message_id: int) -> dict[str, Any]:
        if message_id in self._messages:
            sent = self._messages[message_id]
            reply = sent.reply_to_message_id
            sent.reply_to_message_id = None  # Telegram nests only one level
            try:
                return self._bot_message_json(sent)
            finally:
                sent.reply_to_message_id = reply
        if message_id in self._user_messages:
            return {
                k: v for k, v in self._user_messages[message_id].items() if k != "reply_to_message"
            }
        raise KeyError(message_id)

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        content_type = request.headers.get("content-type", "")
        if "application/json" in content_type:
            body = await request.body()
            if body:
                params.update(json.loads(body))
            return params
        if request.method == "POST":
            form = await request.form()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else "<file>"
        for key, value in list(params.items()):
            if key in _JSON_FIELDS and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        self._notify()
        fault = self._take_fault(method, params)
        if fault is not None:
            return await self._fault_answer(fault, method, params)
        if method.startswith(("send", "edit", "copy", "forward")) and (
            _int_or_none(params.get("chat_id")) in self._blocked
        ):
            return _error(403, "Forbidden: bot was blocked by the user")
        return await self._answer(method, params)

    async def _answer(self, method: str, params: dict[str, Any]) -> JSONResponse:
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _ok(True)
        result: JSONResponse = await handler(params)
        return result

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        chat_id = _int_or_none(params.get("chat_id"))
        for fault in self.faults:
            if fault.spent or not fault.matches(method, chat_id):
                continue
            fault.seen += 1
            if fault.seen <= fault.skip:
                continue
            fault.fired += 1
            return fault
        return None

    async def _fault_answer(
        self, fault: Fault, method: str, params: dict[str, Any]
    ) -> JSONResponse:
        self._notify()
        if fault.kind == "timeout":
            # Telegram may well have done it; the client only never hears back in time.
            await asyncio.sleep(fault.hang)
            return await self._answer(method, params)
        if fault.kind == "true":
            return _ok(True)
        status, description = FAULTS[fault.kind]
        status = fault.status or status
        description = fault.description or description.format(retry_after=fault.retry_after)
        extra = {"retry_after": fault.retry_after} if status == 429 else None
        return _error(status, description, extra)

    # Bot API methods: _m_<lowercased method name>
    async def _m_getme(self, params: dict[str, Any]) -> JSONResponse:
        return _ok(
            {
                **self._bot_user(),
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )

    async def _m_setwebhook(self, params: dict[str, Any]) -> JSONResponse:
        url = str(params.get("url") or "")
        if not url:  # an empty URL removes the webhook, as in Telegram
            return await self._m_deletewebhook(params)
        parts = urlsplit(url)
        # Telegram requires HTTPS on ports 443/80/88/8443; the fake also takes plain http on
        # loopback, where the app under test listens.
        loopback = parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost"}
        if not loopback and (parts.scheme != "https" or (parts.port or 443) not in _WEBHOOK_PORTS):
            return _error(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            return _error(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = url
        self.webhook_secret = None if secret is None else str(secret)
        allowed = params.get("allowed_updates")
        self.webhook_allowed_updates = list(allowed) if isinstance(allowed, list) else None
        self._last_error = None
        self._start_webhook_delivery()
        self._notify()
        return _ok(True)

    async def _m_deletewebhook(self, params: dict[str, Any]) -> JSONResponse:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = ""
        self.webhook_secret = None
        self.webhook_allowed_updates = None
        self._notify()  # the delivery loop sees the URL gone and ends
        return _ok(True)

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> JSONResponse:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self.webhook_allowed_updates is not None:
                info["allowed_updates"] = self.webhook_allowed_updates
            if self._last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._last_error
        return _ok(info)

    async def _m_getupdates(self, params: dict[str, Any]) -> JSONResponse:
        if self.webhook_url:
            return _error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = _int_or_none(params.get("offset"))
        limit = _int_or_none(params.get("limit")) or 100
        timeout = float(params.get("timeout") or 0)
        if offset is not None:
            # Only updates already handed out are confirmed by the offset; a re-pushed old
            # update id (push_raw) is still delivered once, like Telegram re-sending after a
            # crash.
            self._pending = [
                u for u in self._pending if u["update_id"] >= offset or id(u) not in self._delivered
            ]
            self._notify()
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self._pending and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
        batch = self._pending[:limit]
        self._delivered.update(id(u) for u in batch)
        return _ok(batch)

    async def _m_sendmessage(self, params: dict[str, Any]) -> JSONResponse:
        chat_id = int(params["chat_id"])
        reply_to = _int_or_none(params.get("reply_to_message_id"))
        reply_parameters = params.get("reply_parameters")
        if reply_to is None and isinstance(reply_parameters, dict):
            reply_to = _int_or_none(reply_parameters.get("message_id"))
        text = str(params.get("text", ""))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if utf16_length(text) > MAX_TEXT_UTF16:
            return _error(400, "Bad Request: message is too long")
        sent = SentMessage(
            message_id=next(self._message_ids),
            chat_id=chat_id,
            text=text,
            reply_markup=params.get("reply_markup"),
            date=int(time.time()),
            reply_to_message_id=reply_to,
        )
        self._messages[sent.message_id] = sent
        self._messages_by_chat[sent.chat_id].append(sent)
        self._notify()
        return _ok(self._bot_message_json(sent))

    async def _m_editmessagetext(self, params: dict[str, Any]) -> JSONResponse:
        sent, problem = self._editable(params)
        if sent is None:
            return problem
        text = str(params.get("text", ""))
        if utf16_length(text) > MAX_TEXT_UTF16:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = params.get("reply_markup")
        if text == sent.text and markup == sent.reply_markup:
            return _error(*FAULTS["not_modified"])
        sent.edits.append(sent.text)
        sent.text = text
        sent.reply_markup = markup  # omitted markup removes the keyboard, as in Telegram
        self._notify()
        return _ok(self._bot_message_json(sent))

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> JSONResponse:
        sent, problem = self._editable(params)
        if sent is None:
            return problem
        markup = params.get("reply_markup") or None
        if markup == (sent.reply_markup or None):  # e.g. removing buttons already removed
            return _error(*FAULTS["not_modified"])
        sent.reply_markup = markup
        self._notify()
        return _ok(self._bot_message_json(sent))

    def _editable(self, params: dict[str, Any]) -> tuple[SentMessage | None, JSONResponse]:
        """The bot message to edit, or None and Telegram's refusal."""
        message_id = _int_or_none(params.get("message_id"))
        chat_id = _int_or_none(params.get("chat_id"))
        sent = self._messages.get(message_id or -1)
        if sent is None or sent.chat_id != chat_id:
            return None, _error(400, "Bad Request: message to edit not found")
        if time.time() - sent.date > EDIT_WINDOW_SECONDS:
            return None, _error(*FAULTS["cant_edit"])
        return sent, _ok(True)

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> JSONResponse:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._callback_queries or query_id in self._answered_callbacks:
            return _error(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._answered_callbacks.add(query_id)
        self.callback_answers.append(params)
        self._notify()
        return _ok(True)

    async def _m_sendchataction(self, params: dict[str, Any]) -> JSONResponse:
        return _ok(True)

    async def _m_setmycommands(self, params: dict[str, Any]) -> JSONResponse:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[scope] = list(params.get("commands") or [])
        return _ok(True)

    async def _m_getmycommands(self, params: dict[str, Any]) -> JSONResponse:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        return _ok(self.commands.get(scope, []))

    async def _m_deletemycommands(self, params: dict[str, Any]) -> JSONResponse:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands.pop(scope, None)
        return _ok(True)


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)
