"""Rasa's REST channel behind the Rasa token (loaded by Rasa through credentials.yml).

Rasa's ``--auth-token`` guards its HTTP API, not its input channels: with the stock ``rest``
channel any local process could post a message as any policyholder (``"sender": "ph42"``) and
read the bot's answers, which the actions build from that policyholder's data. This channel is
the same REST channel at the same URL (``/webhooks/rest/webhook``), answering 401 unless the
request carries ``Authorization: Bearer <MILCHAK_RASA_TOKEN>``.

It also saves the app a second call per message: the app stores what Rasa understood (intent,
confidence) in the ledger, and used to ask ``/model/parse`` for it, running the NLU pipeline
twice per message. This channel parses the message once, hands the parse to the dialogue (Rasa
skips its own parse when a ``UserMessage`` carries ``parse_data``) and returns the intent and
confidence in the ``X-Milchak-Parse`` header next to the usual JSON list of replies.

Runs inside Rasa's virtualenv: standard library, Rasa and Sanic only.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)
PARSE_HEADER = "X-Milchak-Parse"


class TokenRestInput(RestInput):
    """The REST channel, for callers with the Rasa token."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        token = str((credentials or {}).get("token") or "")
        if not token:
            raise ValueError("credentials.yml: the REST channel needs a token (MILCHAK_RASA_TOKEN)")
        return cls(token)

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def authorized(self, request: Request) -> bool:
        scheme, _, presented = (request.headers.get("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), self._token
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @blueprint.middleware("request")
        async def require_token(request: Request) -> HTTPResponse | None:
            if not self.authorized(request):
                return response.json({"error": "unauthorized"}, status=401)
            return None

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            metadata = self.get_metadata(request)
            input_channel = self._extract_input_channel(request)
            collector = CollectingOutputChannel()
            headers: dict[str, str] = {}
            try:
                processor = request.app.ctx.agent.processor
                # The NLU pipeline needs no tracker: an empty one, as /model/parse uses.
                parse_data = await processor.parse_message(
                    UserMessage(text, sender_id=sender_id, input_channel=input_channel)
                )
                intent = parse_data.get("intent") or {}
                headers[PARSE_HEADER] = json.dumps(
                    {"intent": intent.get("name"), "confidence": intent.get("confidence")}
                )
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender_id,
                        parse_data=parse_data,
                        input_channel=input_channel,
                        metadata=metadata,
                    )
                )
            except Exception:
                # As Rasa's own REST channel: the replies so far, and the error in Rasa's log.
                log.exception("the REST channel could not handle a message")
            return response.json(collector.messages, headers=headers)

        return blueprint
