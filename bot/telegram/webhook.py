"""``POST /telegram``: Telegram's webhook delivery of updates in production.

Telegram re-sends an update until it gets a 2xx answer, so the answer says whether the update
is safe: it is sent only after the Application has handled the update (the customer's message
is in the ledger), through the same update processor as polling, so one chat's updates still
run one at a time in arrival order.

Status codes:

- 403: the ``X-Telegram-Bot-Api-Secret-Token`` header is missing or wrong (nothing processed).
- 400: the body is not a JSON update (nothing processed; Telegram never sends that).
- 503: the Application is not running yet (startup, shutdown); Telegram retries later.
- 200: handled; also when a handler failed *after* the update was stored: the error handler has
  told the user, and a retry would only be dropped as a duplicate by update id.
- 500: a handler failed and the update is *not* in the ledger (e.g. the database is down), so
  nothing of it was kept: Telegram retries and the retry is the first real handling.

PTB's ``process_update`` never raises a handler's exception (it passes it to the error
handlers), so the route learns about failures from an extra error handler that marks the
delivery in progress (a context variable: the handling runs in a task created from the route's
context, so it sees the route's ``_Delivery``). "Stored" is then decided by the ledger itself: a
``Contact`` row with this update id. Handlers that log a message do so before anything else,
so for them "failed and not in the ledger" means storing failed. Updates that leave no
``Contact`` row (some button presses, service updates) also get a 500 when their handler fails,
and Telegram re-sends them a limited number of times: their handlers must tolerate a repeat
(the employee buttons are compare-and-set on the stored status).
"""

import hmac
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.services.ledger import update_was_stored
from bot.telegram.context import SERVICES_KEY, BotServices

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class _Delivery:
    """What happened to the update this request delivers."""

    failed: bool = False


_delivery: ContextVar[_Delivery | None] = ContextVar("telegram_webhook_delivery", default=None)


async def note_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Mark the webhook delivery in progress (if any) as failed; polling is unaffected."""
    delivery = _delivery.get()
    if delivery is not None:
        delivery.failed = True


def install(application: Application) -> None:
    """Let the webhook route learn about handler failures (harmless when polling)."""
    application.add_error_handler(note_failure)


async def telegram_webhook(request: Request) -> Response:
    """Check the secret, hand the update to the Application, answer once it is handled."""
    application: Application = request.app.state.telegram_application
    secret = request.app.state.settings.telegram_webhook_secret
    assert secret is not None  # the route exists only in webhook mode, where settings demand it
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
        log.warning("webhook call with a wrong secret from %s", request.client)
        return PlainTextResponse("Forbidden", status_code=403)
    try:
        data = json.loads(await request.body())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        update = Update.de_json(data, application.bot)
    except (ValueError, TypeError, KeyError) as error:
        log.warning("webhook call with a bad body: %s", error)
        return PlainTextResponse("Bad Request", status_code=400)
    if not application.running:
        return PlainTextResponse("Service Unavailable", status_code=503)

    delivery = _Delivery()
    token = _delivery.set(delivery)  # the task below runs in a copy of this context
    try:
        # A task of the Application (no await since the running check): Application.stop()
        # waits for it, so shutting down never cuts a stored-but-unanswered update short, and a
        # client that hangs up does not cancel the handling.
        task = application.create_task(
            application.update_processor.process_update(update, application.process_update(update)),
            update=update,
        )
    finally:
        _delivery.reset(token)
    try:
        await task
    except Exception:
        # Not a handler's error (process_update passes those to the error handlers) but the
        # processing itself; create_task has reported it to the error handlers too.
        log.exception("could not process webhook update %s", update.update_id)
        delivery.failed = True
    if delivery.failed:
        svc = application.bot_data[SERVICES_KEY]
        assert isinstance(svc, BotServices)
        if not await update_was_stored(svc.sessions, update.update_id):
            log.error(
                "update %s failed before it was stored; Telegram will retry", update.update_id
            )
            return PlainTextResponse("Internal Server Error", status_code=500)
    return Response(status_code=200)
