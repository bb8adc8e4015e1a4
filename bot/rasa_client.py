"""HTTP client for the Rasa servers: NLU parse and the REST channel.

Both need ``MILCHAK_RASA_TOKEN``: Rasa's API reads it from ``?token=`` (``--auth-token``), our
REST channel (``bot.rasa_channel``) from the ``Authorization: Bearer`` header; every request
carries both.

With several Rasa replicas each sender goes to its own replica (``bot.rasa_ring``); a replica
that refuses the connection (down, restarting) is skipped for the next one in the sender's
preference list. A request that reached a replica is never sent to another: the turn may have
happened there, and a second one would repeat it. A replica that refused is skipped until its
``/status`` answers again with a model (asked at most every ``REVIVE_SECONDS``): a restarted
Rasa accepts connections long before its model is loaded, and would only hang its senders.
"""

import functools
import json
import logging
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot import metrics
from bot.rasa_ring import HashRing

log = logging.getLogger(__name__)

PARSE_HEADER = "X-Milchak-Parse"  # bot.rasa_channel: what the REST channel understood
REVIVE_SECONDS = 2.0  # a replica that refused is asked whether it is back at most this often
REVIVE_TIMEOUT = 1.0
# An idle connection is dropped well before Rasa's server would close it (Sanic keeps one 120 s):
# a request sent on a connection the server has just closed would fail, and the customer's
# message would go to a person as if Rasa were down.
KEEPALIVE_SECONDS = 5.0


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA bundle (~15 ms of CPU), and
    the Rasa supervisor's probe makes a client every 2 seconds."""
    return ssl.create_default_context()


class RasaUnavailable(Exception):
    """Rasa did not answer (down, starting, or failing)."""


@dataclass(frozen=True)
class Parse:
    intent: str | None
    confidence: float | None
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class BotReply:
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (title, payload)


@dataclass(frozen=True)
class _Answer:
    headers: Mapping[str, str]
    data: Any  # the JSON body


class RasaClient:
    """Talks to one Rasa server, or to several replicas by sender (``base_url`` a list).

    HTTP goes through aiohttp: a request costs a quarter of httpx's CPU (0.26 against 1.2 ms,
    measured on loopback), and every policyholder message makes one.
    """

    def __init__(
        self, base_url: str | Sequence[str], *, timeout: float = 15.0, token: str | None = None
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.ring = HashRing([url.rstrip("/") for url in urls])
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._params = {"token": token} if token else None
        self._headers = {"Authorization": f"Bearer {token}"} if token else None
        self._session: aiohttp.ClientSession | None = None  # made in the event loop that uses it
        self._down: dict[str, float] = {}  # replica → when it was last found down

    @property
    def urls(self) -> tuple[str, ...]:
        return self.ring.nodes

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers=self._headers,
                connector=aiohttp.TCPConnector(
                    # Enough connections for every chat the app serves at once.
                    limit=200,
                    keepalive_timeout=KEEPALIVE_SECONDS,
                    ssl=_tls_context(),
                ),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, path: str, body: dict[str, Any], *, sender: str) -> Any:
        return (await self._post_answer(path, body, sender=sender)).data

    async def _post_answer(self, path: str, body: dict[str, Any], *, sender: str) -> _Answer:
        replicas = self.ring.preference(sender)
        if len(replicas) > 1:
            alive = [url for url in replicas if await self._usable(url)]
            replicas = alive or replicas[-1:]  # all down: try one, the caller hears why
        for index, url in enumerate(replicas):
            try:
                async with self._http().post(url + path, json=body, params=self._params) as reply:
                    reply.raise_for_status()
                    # A body that is not JSON counts as a failure here.
                    return _Answer(reply.headers, await reply.json(content_type=None))
            except aiohttp.ClientConnectorError as error:
                # Nothing reached this replica: the next one may take the sender's turn.
                self._down[url] = time.monotonic()
                if index + 1 < len(replicas):
                    log.info("Rasa %s refused %s, trying %s", url, path, replicas[index + 1])
                    continue
                metrics.RASA_ERRORS.labels(path).inc()
                raise RasaUnavailable(str(error) or type(error).__name__) from error
            except (TimeoutError, aiohttp.ClientError, ValueError) as error:
                metrics.RASA_ERRORS.labels(path).inc()
                raise RasaUnavailable(str(error) or type(error).__name__) from error
        raise AssertionError("unreachable: the ring has at least one replica")

    async def _usable(self, url: str) -> bool:
        """False while ``url`` is known to be down and has not said it is back."""
        since = self._down.get(url)
        if since is None:
            return True
        if time.monotonic() - since < REVIVE_SECONDS:
            return False
        self._down[url] = time.monotonic()  # one probe per period, however many senders wait
        if await self._ready(url, wait=REVIVE_TIMEOUT):
            log.warning("Rasa %s is back", url)
            self._down.pop(url, None)
            return True
        return False

    async def _ready(self, url: str, *, wait: float | None = None) -> bool:
        timeout = self._timeout if wait is None else aiohttp.ClientTimeout(total=wait)
        try:
            async with self._http().get(
                url + "/status", params=self._params, timeout=timeout
            ) as reply:
                if reply.status != 200:
                    return False
                return bool((await reply.json(content_type=None)).get("model_file"))
        except (TimeoutError, aiohttp.ClientError, ValueError, AttributeError):
            return False

    async def parse(self, text: str, *, sender: str = "") -> Parse:
        """Intent, confidence and entities of one message (on ``sender``'s replica)."""
        data = await self._post("/model/parse", {"text": text}, sender=sender)
        intent = data.get("intent") or {}
        return Parse(intent.get("name"), intent.get("confidence"), data.get("entities") or [])

    async def send(
        self, sender: str, text: str, *, metadata: dict[str, Any] | None = None
    ) -> list[BotReply]:
        """Hand one user message to the dialogue and return the bot's replies."""
        return (await self.turn(sender, text, metadata=metadata))[1]

    async def turn(
        self, sender: str, text: str, *, metadata: dict[str, Any] | None = None
    ) -> tuple[Parse, list[BotReply]]:
        """Hand one user message to the dialogue: what Rasa understood, and the bot's replies.

        ``metadata`` rides with the message into Rasa's tracker, where the custom actions read
        it (the app sends the message's ledger row as ``turn``). One HTTP call: the channel
        (``bot.rasa_channel``) returns the parse in a header; a Rasa without it is asked
        ``/model/parse`` as well.
        """
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        answer = await self._post_answer("/webhooks/rest/webhook", body, sender=sender)
        header = answer.headers.get(PARSE_HEADER)
        if header:
            understood = json.loads(header)
            parse = Parse(understood.get("intent"), understood.get("confidence"))
        else:
            parse = await self.parse(text, sender=sender)
        return parse, self._replies(answer.data)

    @staticmethod
    def _replies(data: Any) -> list[BotReply]:
        replies = []
        for item in data or []:
            buttons = [
                (str(b.get("title")), str(b.get("payload"))) for b in item.get("buttons") or []
            ]
            if item.get("text") or buttons:
                replies.append(BotReply(str(item.get("text") or ""), buttons))
        return replies

    async def is_ready(self) -> bool:
        """True once every replica is up with a model loaded."""
        for url in self.urls:
            if not await self._ready(url):
                return False
        return True
