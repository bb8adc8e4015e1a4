"""HTTP client for the Rasa server: NLU parse and the REST channel.

Both need ``MILCHAK_RASA_TOKEN``: Rasa's API reads it from ``?token=`` (``--auth-token``), our
REST channel (``bot.rasa_channel``) from the ``Authorization: Bearer`` header; every request
carries both.
"""

from dataclasses import dataclass, field
from typing import Any

import httpx

from bot import metrics


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
    def __init__(self, base_url: str, *, timeout: float = 15.0, token: str | None = None) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            params={"token": token} if token else None,
            headers={"Authorization": f"Bearer {token}"} if token else None,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = await self._http.post(path, json=body)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            metrics.RASA_ERRORS.labels(path).inc()
            raise RasaUnavailable(str(error) or type(error).__name__) from error

    async def parse(self, text: str) -> Parse:
        """Intent, confidence and entities of one message."""
        data = await self._post("/model/parse", {"text": text})
        intent = data.get("intent") or {}
        return Parse(intent.get("name"), intent.get("confidence"), data.get("entities") or [])

    async def send(
        self, sender: str, text: str, *, metadata: dict[str, Any] | None = None
    ) -> list[BotReply]:
        """Hand one user message to the dialogue and return the bot's replies.

        ``metadata`` rides with the message into Rasa's tracker, where the custom actions read
        it (the app sends the message's ledger row as ``turn``).
        """
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        data = await self._post("/webhooks/rest/webhook", body)
        replies = []
        for item in data or []:
            buttons = [
                (str(b.get("title")), str(b.get("payload"))) for b in item.get("buttons") or []
            ]
            if item.get("text") or buttons:
                replies.append(BotReply(str(item.get("text") or ""), buttons))
        return replies

    async def is_ready(self) -> bool:
        """True once the server is up with a model loaded."""
        try:
            response = await self._http.get("/status")
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False
