"""Prometheus metrics of the app, and the small loopback server that exposes them at /metrics.

The counters live in prometheus-client's default registry (which also carries the process's
CPU, memory and file-descriptor metrics). Counters count in this process, so with several app
processes Prometheus sums them over the ``instance`` label. The outbox gauges describe the
shared database and are refreshed from it at every scrape.

/metrics is served on its own address, ``MILCHAK_METRICS_HOST:MILCHAK_METRICS_PORT``
(127.0.0.1:9108 by default), never on the web port: the reverse proxy that forwards the web
port to Telegram and the console cannot expose it by mistake. Bound elsewhere than loopback it
needs ``MILCHAK_METRICS_TOKEN``, sent by Prometheus as a bearer token.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import uvicorn
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.config import Settings, is_loopback

if TYPE_CHECKING:
    from bot.health import Health

log = logging.getLogger(__name__)

MESSAGES = Counter(
    "milchak_messages_total",
    "Messages stored in the contact ledger, by channel and direction (in = from a person).",
    ["channel", "direction"],
)
TURN_SECONDS = Histogram(
    "milchak_turn_seconds",
    "Time to handle one policyholder message: stored, understood, answered and stored.",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 20.0, 30.0),
)
RASA_ERRORS = Counter(
    "milchak_rasa_errors_total",
    "Calls to Rasa that failed (down, starting, timing out or answering an error).",
    ["endpoint"],
)
RASA_RESTARTS = Counter(
    "milchak_rasa_restarts_total",
    "Rasa processes restarted by the supervisor, by instance and reason.",
    ["rasa", "reason"],
)
RASA_UP = Gauge(
    "milchak_rasa_up", "1 when the supervised Rasa process answers its health probe.", ["rasa"]
)
APP_RESTARTS = Counter(
    "milchak_app_restarts_total",
    "App replicas (`milchak run --replicas`) restarted by the supervisor, by replica and reason.",
    ["replica", "reason"],
)
APP_UP = Gauge(
    "milchak_app_up", "1 when the supervised app replica answers its health probe.", ["replica"]
)
WORKER_RESTARTS = Counter(
    "milchak_worker_restarts_total",
    "Background workers that stopped or crashed and were started again.",
    ["worker"],
)
OUTBOX_DEPTH = Gauge(
    "milchak_outbox_depth", "Outbox messages waiting for delivery (pending or being sent)."
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "milchak_outbox_oldest_pending_seconds",
    "Age of the oldest outbox message still waiting for delivery (0 when none waits).",
)
REQUESTS_OPENED = Counter(
    "milchak_requests_opened_total", "Requests opened for employees, by kind.", ["kind"]
)
SLA_BREACHES = Counter(
    "milchak_sla_breaches_total",
    "Requests found unacknowledged past their deadline (each escalation step counts once).",
    ["kind"],
)
VERIFICATION_LOCKOUTS = Counter(
    "milchak_verification_lockouts_total",
    "Telegram accounts locked out of verification after too many wrong answers.",
)
READY = Gauge(
    "milchak_ready", "1 when the part passed its last readiness check (see /readyz).", ["part"]
)
ALERTS_SENT = Counter(
    "milchak_ops_alerts_total",
    "Operations alerts sent to the admins' Telegram chats, by condition and state.",
    ["condition", "state"],
)


P = ParamSpec("P")
R = TypeVar("R")


def timed(
    histogram: Histogram,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Observe how long each call of a coroutine function takes, failures included.

    (prometheus-client's own ``Histogram.time()`` decorator would time only the creation of
    the coroutine, not its run.)
    """

    def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)

        return wrapper

    return decorate


def token_matches(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (constant-time)."""
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), token.encode())


def create_metrics_app(settings: Settings, health: Health | None = None) -> Starlette:
    """The /metrics app; ``health`` refreshes the database gauges before each scrape."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    async def metrics(request: Request) -> Response:
        if token is not None and not token_matches(request, token):
            return PlainTextResponse("Unauthorized", status_code=401)
        if health is not None:
            await health.refresh_outbox_gauges()
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/metrics", metrics)])


def check_metrics_address(settings: Settings) -> None:
    """Refuse to publish metrics beyond this machine without a token."""
    if settings.metrics_token is None and not is_loopback(settings.metrics_host):
        raise SystemExit(
            f"MILCHAK_METRICS_HOST={settings.metrics_host}: 루프백이 아닌 주소로 지표를 열려면 "
            "MILCHAK_METRICS_TOKEN을 설정하세요 (metrics beyond loopback need a bearer token)."
        )


def metrics_config(settings: Settings, health: Health | None) -> uvicorn.Config:
    """uvicorn's configuration for /metrics on MILCHAK_METRICS_HOST:MILCHAK_METRICS_PORT."""
    check_metrics_address(settings)
    return uvicorn.Config(
        create_metrics_app(settings, health),
        host=settings.metrics_host,
        port=settings.metrics_port,
        log_level="warning",
        lifespan="off",
    )
