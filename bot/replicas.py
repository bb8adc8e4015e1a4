"""`milchak run --replicas N --rasa-replicas M`: N app processes and M Rasa processes on one
machine, sharing PostgreSQL and Redis, under one supervisor.

The parent process only supervises: it starts the Rasa replicas (ports ``rasa_url``'s port, +1,
…; one log file each), waits for their models, then starts the app replicas, each a
``milchak run --no-rasa`` with

- ``MILCHAK_RASA_URLS``: every Rasa replica (each policyholder goes to one, ``bot.rasa_ring``);
- ``MILCHAK_WEB_REUSE_PORT``: all replicas listen on the one web port, and the kernel spreads
  connections (Telegram's webhook POSTs, Rasa's action calls, the console) over the live ones;
- ``MILCHAK_METRICS_PORT``: the parent's ``/metrics`` (the supervisor's series) stays on the
  configured port, replica ``i`` gets that port + 1 + i;
- the action and Rasa tokens, made up here for the run when unset.

Every process is restarted as ``bot.supervisor`` does for a single Rasa (an app replica is
probed on its ``/metrics``). The app replicas run every background job; the jobs claim their
rows in the database, so each due item is acted on once (``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

import httpx
from sqlalchemy.engine import make_url

from bot.config import PROJECT_ROOT, Settings
from bot.metrics import metrics_config
from bot.rasa_client import RasaClient
from bot.runner import (
    _QuietServer,
    rasa_supervisor,
    start_rasa,
    stop_process,
    wait_for_rasa,
    with_run_tokens,
)
from bot.supervisor import RasaSupervisor, RestartPolicy
from bot.tracker_store import tracker_database

log = logging.getLogger(__name__)


def replica_problems(settings: Settings, *, replicas: int, rasa_replicas: int) -> list[str]:
    """Why these settings cannot run as replicas (empty when they can)."""
    problems = []
    if replicas < 1 or rasa_replicas < 1:
        problems.append("--replicas와 --rasa-replicas는 1 이상이어야 합니다.")
    if replicas > 1:
        if make_url(settings.database_url).get_backend_name() != "postgresql":
            problems.append(
                "앱 복제본 여러 개는 PostgreSQL이 필요합니다 (MILCHAK_DATABASE_URL; SQLite is "
                "for one process)."
            )
        if settings.telegram_token is None or settings.telegram_webhook_url is None:
            problems.append(
                "앱 복제본 여러 개는 웹훅 모드로만 실행합니다 (MILCHAK_TELEGRAM_TOKEN과 "
                "MILCHAK_TELEGRAM_WEBHOOK_URL; one getUpdates poller per bot)."
            )
    if rasa_replicas > 1:
        if settings.redis_url is None:
            problems.append("Rasa 복제본 여러 개는 MILCHAK_REDIS_URL(잠금 저장소)이 필요합니다.")
        try:
            dialect = tracker_database(settings.rasa_tracker_url, base_dir=PROJECT_ROOT).dialect
        except ValueError as error:
            problems.append(str(error))
        else:
            if dialect != "postgresql":
                problems.append(
                    "Rasa 복제본 여러 개는 PostgreSQL 대화 저장소가 필요합니다 "
                    "(MILCHAK_RASA_TRACKER_URL)."
                )
    return problems


def rasa_ports(settings: Settings, count: int) -> list[int]:
    base = int(settings.rasa_url.rsplit(":", 1)[1].split("/")[0])
    return [base + j for j in range(count)]


def replica_environment(settings: Settings, *, index: int, rasa_urls: list[str]) -> dict[str, str]:
    """The environment of app replica ``index``."""
    assert settings.action_token is not None and settings.rasa_token is not None
    env = dict(os.environ)
    env.update(
        {
            "MILCHAK_RASA_URLS": ",".join(rasa_urls),
            "MILCHAK_RASA_URL": rasa_urls[0],
            "MILCHAK_WEB_REUSE_PORT": "true",
            "MILCHAK_WEB_PORT": str(settings.web_port),
            "MILCHAK_METRICS_PORT": str(replica_metrics_port(settings, index)),
            "MILCHAK_ACTION_TOKEN": settings.action_token.get_secret_value(),
            "MILCHAK_RASA_TOKEN": settings.rasa_token.get_secret_value(),
        }
    )
    return env


def replica_metrics_port(settings: Settings, index: int) -> int:
    return settings.metrics_port + 1 + index if settings.metrics_port else 0


def start_app(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """One app replica: `milchak run --no-rasa`, its output on ours."""
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "run", "--no-rasa"],
        cwd=os.getcwd(),
        env=env,
        start_new_session=True,  # Ctrl-C reaches the parent, which stops the replicas in order
    )


async def _answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


def app_supervisor(settings: Settings, *, index: int, env: dict[str, str]) -> RasaSupervisor:
    """Watch app replica ``index``: restarted when it exits, or stops answering on /metrics."""
    port = replica_metrics_port(settings, index)

    async def probe() -> bool:
        return True if not port else await _answers(f"http://127.0.0.1:{port}/metrics")

    return RasaSupervisor(
        name=f"app:{index}",
        port=port,
        kind="app",
        start=lambda: start_app(env),
        terminate=lambda old: stop_process(old, grace=15),
        probe=probe,
        policy=RestartPolicy(
            limit=settings.rasa_restart_limit, window=settings.rasa_restart_window_seconds
        ),
        probe_interval=settings.rasa_probe_interval,
        probe_failures=settings.rasa_probe_failures,
        start_timeout=120,
    )


async def serve_replicas(settings: Settings, *, replicas: int, rasa_replicas: int) -> None:
    """Run the replicas until Ctrl-C / SIGTERM, then stop the apps, then Rasa."""
    problems = replica_problems(settings, replicas=replicas, rasa_replicas=rasa_replicas)
    if problems:
        raise SystemExit("복제본으로 실행할 수 없습니다:\n" + "\n".join(f"- {p}" for p in problems))
    settings = with_run_tokens(settings, starts_rasa=True)
    assert settings.rasa_token is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    metrics_server = _QuietServer(metrics_config(settings, None)) if settings.metrics_port else None
    metrics_task = asyncio.create_task(metrics_server.serve()) if metrics_server else None
    ports = rasa_ports(settings, rasa_replicas)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    logs = {port: PROJECT_ROOT / f"rasa-{port}.log" for port in ports}
    supervisors: list[RasaSupervisor] = []
    watchers: list[asyncio.Task[None]] = []
    rasa_processes = {port: start_rasa(settings, port=port, log_file=logs[port]) for port in ports}
    for port, process in rasa_processes.items():
        log.warning("Rasa rasa:%s started (pid %s, port %s)", port, process.pid, port)
    client = RasaClient(urls, token=settings.rasa_token.get_secret_value())
    try:
        print(f"Rasa {rasa_replicas}개를 시작합니다", end="", file=sys.stderr, flush=True)
        await wait_for_rasa(client, None, limit_seconds=settings.rasa_start_timeout_seconds)
        for port, process in rasa_processes.items():
            supervisors.append(
                rasa_supervisor(settings, port=port, process=process, log_file=logs[port])
            )
        for index in range(replicas):
            env = replica_environment(settings, index=index, rasa_urls=urls)
            supervisors.append(app_supervisor(settings, index=index, env=env))
        watchers = [asyncio.create_task(s.run(stop)) for s in supervisors]
        print(
            f"앱 {replicas}개와 Rasa {rasa_replicas}개가 실행 중입니다 (웹 포트 "
            f"{settings.web_port}). 종료하려면 Ctrl-C를 누르세요.",
            file=sys.stderr,
        )
        await stop.wait()
    finally:
        stop.set()
        await asyncio.gather(*watchers, return_exceptions=True)
        apps = [s.process for s in supervisors if s.kind == "app" and s.process is not None]
        # The apps first (they finish the updates in hand, which may still need Rasa) …
        await asyncio.gather(*(asyncio.to_thread(stop_process, app) for app in apps))
        # … then every Rasa, the ones restarted by their supervisors included.
        rasas = {*rasa_processes.values()}
        rasas.update(s.process for s in supervisors if s.kind != "app" and s.process is not None)
        await asyncio.gather(*(asyncio.to_thread(stop_process, r, 5) for r in rasas))
        await client.close()
        if metrics_server is not None and metrics_task is not None:
            metrics_server.should_exit = True
            await metrics_task
