"""`milchak run`: start Rasa, wait until it is ready, run the app, stop both cleanly."""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application

from bot import clock
from bot.config import PROJECT_ROOT, Settings
from bot.db import create_engine_and_sessions
from bot.health import Health, probe_rasa
from bot.lock_store import lock_store_environment
from bot.metrics import metrics_config
from bot.ops_alerts import OpsWatch, run_ops_watch
from bot.rasa_client import RasaClient
from bot.services import holidays
from bot.services.escalation import run_escalation_worker
from bot.services.outbox import Send, run_outbox_worker
from bot.services.retention import run_retention_worker
from bot.services.sla import Deadlines
from bot.services.weekly_digest import Schedule, run_weekly_digest_worker
from bot.supervisor import RasaSupervisor, RestartPolicy, keep_running
from bot.telegram.sender import telegram_sender
from bot.tokens import is_loopback, new_token
from bot.tracker_store import tracker_store_environment
from bot.web import create_web_app

log = logging.getLogger(__name__)

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
MODEL = PROJECT_ROOT / "models" / "milchak.tar.gz"


def rasa_environment(settings: Settings) -> dict[str, str]:
    """Environment for the Rasa process: our nlu/ importable, telemetry off, the action URL and
    the tracker store that endpoints.yml reads."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["MILCHAK_ACTION_ENDPOINT"] = f"http://127.0.0.1:{settings.web_port}/actions/webhook"
    if settings.action_token is None or settings.rasa_token is None:
        raise ValueError(
            "Rasa를 시작하려면 MILCHAK_ACTION_TOKEN과 MILCHAK_RASA_TOKEN이 필요합니다 "
            "(`make setup`이 .env에 만들어 둡니다)."
        )
    env["MILCHAK_ACTION_TOKEN"] = settings.action_token.get_secret_value()
    env["MILCHAK_RASA_TOKEN"] = settings.rasa_token.get_secret_value()
    env.update(
        tracker_store_environment(
            settings.rasa_tracker_url,
            base_dir=Path.cwd(),
            session_events=settings.rasa_session_events,
        )
    )
    env.update(lock_store_environment(settings.redis_url))
    return env


def start_rasa(
    settings: Settings, *, port: int = 5005, model: Path = MODEL, log_file: Path | None = None
) -> subprocess.Popen[bytes]:
    """Launch `rasa run` with the HTTP API on loopback, behind the Rasa token.

    ``bot.rasa_launcher`` hands the token to Rasa from the environment: on the command line
    (``--auth-token``) every local user could read it in ``ps``.
    """
    if not RASA_BIN.exists() or not model.exists():
        raise SystemExit(
            "Rasa 가상환경이나 학습된 모델이 없습니다. 먼저 `make setup`을 실행하세요."
        )
    try:
        env = rasa_environment(settings)
    except ValueError as error:
        raise SystemExit(str(error)) from error
    output = open(log_file, "ab") if log_file else subprocess.DEVNULL
    return subprocess.Popen(
        [
            str(RASA_PYTHON),
            "-m",
            "bot.rasa_launcher",
            "run",
            "--enable-api",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            str(model),
            "--endpoints",
            str(PROJECT_ROOT / "endpoints.yml"),
            "--credentials",
            str(PROJECT_ROOT / "credentials.yml"),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def with_run_tokens(settings: Settings, *, starts_rasa: bool) -> Settings:
    """The settings with both tokens set, or a readable exit when they cannot be.

    The action endpoint never runs open: on a non-loopback web address MILCHAK_ACTION_TOKEN is
    required; a Rasa started elsewhere must be given both tokens, so both are required; for the
    Rasa this process starts, missing tokens are made up for the run.
    """
    if settings.action_token is None and not is_loopback(settings.web_host):
        raise SystemExit(
            f"MILCHAK_WEB_HOST={settings.web_host} 는 다른 컴퓨터에서도 접속할 수 있는 "
            "주소입니다. 액션 엔드포인트를 보호하도록 MILCHAK_ACTION_TOKEN을 설정하세요 "
            "(refusing a non-loopback web host without an action token)."
        )
    if not starts_rasa:
        if settings.action_token is None or settings.rasa_token is None:
            raise SystemExit(
                "Rasa를 따로 실행할 때는(--no-rasa) 양쪽에 같은 MILCHAK_ACTION_TOKEN과 "
                "MILCHAK_RASA_TOKEN을 설정해야 합니다 (a Rasa started elsewhere needs both "
                "shared tokens)."
            )
        return settings
    made_up = {
        name: SecretStr(new_token())
        for name in ("action_token", "rasa_token")
        if getattr(settings, name) is None
    }
    return settings.model_copy(update=made_up) if made_up else settings


def rasa_client(settings: Settings) -> RasaClient:
    """The client for the configured Rasa, sending the Rasa token when there is one."""
    token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    return RasaClient(settings.rasa_replica_urls, timeout=settings.rasa_timeout, token=token)


async def wait_for_rasa(
    rasa: RasaClient, process: subprocess.Popen[bytes] | None, limit_seconds: float = 240
) -> None:
    """Poll until Rasa has loaded its model, printing progress."""
    started = time.monotonic()
    while not await rasa.is_ready():
        if process is not None and process.poll() is not None:
            raise SystemExit(f"Rasa가 시작하지 못했습니다 (종료 코드 {process.returncode}).")
        if time.monotonic() - started > limit_seconds:
            raise SystemExit("Rasa가 제시간에 준비되지 않았습니다.")
        print(".", end="", file=sys.stderr, flush=True)
        await asyncio.sleep(1)
    print(f" Rasa 준비 완료 ({time.monotonic() - started:.0f}초)", file=sys.stderr)


def stop_process(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM the process group, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: `serve` owns SIGINT/SIGTERM for the stack."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes may bind too (SO_REUSEPORT).

    Made with ``IPPROTO_TCP`` so that asyncio turns Nagle's algorithm off on every accepted
    connection (it does so only when the socket says TCP): with it on, a response written as
    headers then body waited for the peer's delayed ACK, ~40 ms on Linux, on Rasa's action calls.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def web_server(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    telegram: Application | None = None,
    health: Health | None = None,
) -> uvicorn.Server:
    """The uvicorn server for the web app (with /telegram when ``telegram`` runs on a webhook)."""
    config = uvicorn.Config(
        create_web_app(sessions, settings, telegram=telegram, health=health),
        host=settings.web_host,
        port=settings.web_port,
        log_level="warning",
        lifespan="off",
    )
    return _QuietServer(config)


async def background_workers(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    send: Send,
    stop: asyncio.Event,
    *,
    digests: bool = True,
    retention_tasks: bool = True,
) -> list[asyncio.Task[None]]:
    """Outbox delivery, SLA escalation, weekly digests and the daily retention job: independent
    loops over the database, each restarted if it ever crashes."""
    deadlines = Deadlines.from_settings(settings)
    workers = [
        asyncio.create_task(
            keep_running(
                "outbox",
                lambda: run_outbox_worker(
                    sessions, send, interval=settings.outbox_interval, stop=stop
                ),
                stop,
            )
        ),
        asyncio.create_task(
            keep_running(
                "escalation",
                lambda: run_escalation_worker(
                    sessions,
                    deadlines=deadlines,
                    interval=settings.escalation_interval,
                    stop=stop,
                ),
                stop,
            )
        ),
    ]
    if digests:
        schedule = Schedule.from_settings(settings)
        digest = keep_running(
            "weekly digest",
            lambda: run_weekly_digest_worker(
                sessions, schedule=schedule, interval=settings.weekly_digest_interval, stop=stop
            ),
            stop,
        )
        workers.append(asyncio.create_task(digest))
    if retention_tasks and settings.retention_enabled:
        retention = keep_running(
            "retention",
            lambda: run_retention_worker(
                sessions,
                deadlines=deadlines,
                hour=settings.retention_hour,
                interval=settings.retention_interval,
                stop=stop,
                reminder=settings.retention_reminder,
                company_phone=settings.company_phone,
            ),
            stop,
        )
        workers.append(asyncio.create_task(retention))
    return workers


def rasa_supervisor(
    settings: Settings,
    *,
    port: int,
    process: subprocess.Popen[bytes],
    log_file: Path = PROJECT_ROOT / "rasa.log",
) -> RasaSupervisor:
    """Watch the ready Rasa ``process`` on ``port``; restarts use the same port and log file."""
    return RasaSupervisor(
        name=f"rasa:{port}",
        port=port,
        start=lambda: start_rasa(settings, port=port, log_file=log_file),
        # A dead or hung process has nothing to finish: a short grace before SIGKILL.
        terminate=lambda old: stop_process(old, grace=5),
        probe=lambda: probe_rasa(f"http://127.0.0.1:{port}", settings.rasa_token),
        process=process,
        policy=RestartPolicy(
            limit=settings.rasa_restart_limit, window=settings.rasa_restart_window_seconds
        ),
        probe_interval=settings.rasa_probe_interval,
        probe_failures=settings.rasa_probe_failures,
        start_timeout=settings.rasa_start_timeout_seconds,
    )


async def start_telegram(application: Application, settings: Settings) -> None:
    """Start receiving updates: by polling, or by registering our webhook with Telegram."""
    await application.start()
    if settings.telegram_webhook_url is None:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=settings.telegram_poll_interval)
        return
    assert settings.telegram_webhook_secret is not None  # Settings enforce it
    # Pending updates are kept: Telegram delivers what arrived while we were down.
    await application.bot.set_webhook(
        url=f"{settings.telegram_webhook_url}/telegram",
        secret_token=settings.telegram_webhook_secret.get_secret_value(),
        allowed_updates=Update.ALL_TYPES,
        drop_pending_updates=False,
    )


async def stop_telegram(application: Application, settings: Settings) -> None:
    """Stop receiving updates and let the ones in progress finish."""
    # In webhook mode the webhook stays registered: deleting it on every restart would make
    # Telegram drop the updates sent in between (or need polling to fetch them); while we are
    # down Telegram keeps them and retries, and the next start registers the same URL again.
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    await application.stop()


async def serve(settings: Settings, *, with_rasa: bool = True, chat: bool | None = None) -> None:
    """Run the whole stack until Ctrl-C / SIGTERM (or the end of the terminal chat)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    settings = with_run_tokens(settings, starts_rasa=with_rasa)
    chat = settings.telegram_token is None if chat is None else chat
    holidays.warn_if_uncovered(clock.today())
    engine, sessions = create_engine_and_sessions(settings.database_url)
    rasa = rasa_client(settings)
    application = None
    if not chat:
        from bot.telegram.app import build_application

        application = build_application(settings=settings, sessions=sessions, rasa=rasa)
    health = Health(sessions, settings, telegram=application)
    # In webhook mode /telegram answers 503 (Telegram retries) until the Application runs.
    server = web_server(sessions, settings, telegram=application, health=health)
    servers = [server]
    if settings.metrics_port:  # 0 = no /metrics listener
        servers.append(_QuietServer(metrics_config(settings, health)))
    server_tasks = [
        asyncio.create_task(
            s.serve(sockets=[reuse_port_socket(settings.web_host, settings.web_port)])
            if s is server and settings.web_reuse_port
            else s.serve()
        )
        for s in servers
    ]
    process = None
    watchers: list[asyncio.Task[None]] = []
    try:
        if with_rasa:
            print("Rasa를 시작합니다", end="", file=sys.stderr, flush=True)
            port = int(settings.rasa_url.rsplit(":", 1)[1].split("/")[0])
            process = start_rasa(settings, port=port, log_file=PROJECT_ROOT / "rasa.log")
            await wait_for_rasa(rasa, process)
            supervisor = rasa_supervisor(settings, port=port, process=process)
            health.supervisors.append(supervisor)
            watchers.append(asyncio.create_task(supervisor.run(stop)))
        if application is None:
            from bot.terminal_chat import console_sender, run_chat

            # Department heads' digests and employees' retention tasks are for Telegram; the demo
            # chat would print them all (the demo has dozens of unpaid premiums) and mark them
            # sent. They go out (catching up) once the bot runs on Telegram.
            workers = await background_workers(
                sessions, settings, console_sender, stop, digests=False, retention_tasks=False
            )
            watchers.append(run_ops_watch(OpsWatch(health, settings, None), settings, stop))
            await run_chat(sessions, rasa, stop, deadlines=Deadlines.from_settings(settings))
        else:
            async with application:
                await start_telegram(application, settings)
                workers = await background_workers(
                    sessions, settings, telegram_sender(application.bot), stop
                )
                alert = OpsWatch(health, settings, application.bot.send_message)
                watchers.append(run_ops_watch(alert, settings, stop))
                print("텔레그램 봇이 실행 중입니다. 종료하려면 Ctrl-C를 누르세요.", file=sys.stderr)
                await stop.wait()
                await stop_telegram(application, settings)
        stop.set()
        await asyncio.gather(*workers, *watchers, return_exceptions=True)
    finally:
        stop.set()  # the supervisors and watchers too, when startup failed
        await asyncio.gather(*watchers, return_exceptions=True)
        for running in servers:
            running.should_exit = True
        await asyncio.gather(*server_tasks)
        await rasa.close()
        await engine.dispose()
        for supervised in health.supervisors:
            if supervised.process is not None:
                stop_process(supervised.process)
        if process is not None:
            stop_process(process)
