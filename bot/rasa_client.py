"""HTTP client for the Rasa servers: NLU parse and the REST channel.

Both need ``MILCHAK_RASA_TOKEN``: Rasa's API reads it from ``?token=`` (``--auth-token``), our
REST channel (``bot.rasa_channel``) from the ``Authorization: Bearer`` header; every request
carries both.

With several Rasa replicas each sender goes to its own replica (``bot.rasa_ring``); a replica
that refuses the connection (down, restarting) is skipped for the next one in the sender's
preference list. A request that reached a replica is never sent to another: the turn may have
happened there, and a second one would repeat it.
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot import metrics
from bot.rasa_ring import HashRing

log = logging.getLogger(__name__)

PARSE_HEADER = "X-Milchak-Parse"  # bot.rasa_channel: what the REST channel understood


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


class RasaClient:
    """Talks to one Rasa server, or to several replicas by sender (``base_url`` a list)."""

    def __init__(
        self, base_url: str | Sequence[str], *, timeout: float = 15.0, token: str | None = None
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.ring = HashRing([url.rstrip("/") for url in urls])
        self._http = httpx.AsyncClient(
            timeout=timeout,
            params={"token": token} if token else None,
            headers={"Authorization": f"Bearer {token}"} if token else None,
            # Enough kept-alive connections for every chat the app serves at once.
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
        )

    @property
    def urls(self) -> tuple[str, ...]:
        return self.ring.nodes

    async def close(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any], *, sender: str) -> Any:
        return (await self._post_response(path, body, sender=sender)).json()

    async def _post_response(
        self, path: str, body: dict[str, Any], *, sender: str
    ) -> httpx.Response:
        replicas = self.ring.preference(sender)
        for index, url in enumerate(replicas):
            try:
                response = await self._http.post(url + path, json=body)
                response.raise_for_status()
                response.json()  # a body that is not JSON counts as a failure here
                return response
            except httpx.ConnectError as error:
                # Nothing reached this replica: the next one may take the sender's turn.
                if index + 1 < len(replicas):
                    log.info("Rasa %s refused %s, trying %s", url, path, replicas[index + 1])
                    continue
                metrics.RASA_ERRORS.labels(path).inc()
                raise RasaUnavailable(str(error) or type(error).__name__) from error
            except (httpx.HTTPError, ValueError) as error:
                metrics.RASA_ERRORS.labels(path).inc()
                raise RasaUnavailable(str(error) or type(error).__name__) from error
        raise AssertionError("unreachable: the ring has at least one replica")

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
        response = await self._post_response("/webhooks/rest/webhook", body, sender=sender)
        header = response.headers.get(PARSE_HEADER)
        if header:
            understood = json.loads(header)
            parse = Parse(understood.get("intent"), understood.get("confidence"))
        else:
            parse = await self.parse(text, sender=sender)
        return parse, self._replies(response.json())

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
            try:
                response = await self._http.get(url + "/status")
                if response.status_code != 200 or not response.json().get("model_file"):
                    return False
            except (httpx.HTTPError, ValueError):
                return False
        return True
