"""`milchak run` as a separate process, with its own Rasa, against the fake Bot API: what an
operator runs, driven from outside (signals, /readyz, /metrics) by e2e tests and benchmarks."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from asyncio.subprocess import PIPE, STDOUT
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import free_port, free_ports


def milchak(*args: str) -> list[str]:
    """The `milchak` command run by this interpreter (the installed entry point's code)."""
    return [sys.executable, "-c", "from bot.cli import main; main()", *args]


@dataclass
class RunningMilchak:
    process: asyncio.subprocess.Process
    web_url: str
    metrics_url: str
    rasa_port: int
    lines: list[str] = field(default_factory=list)  # its output so far (stdout and stderr)

    async def _read_output(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def readyz(self) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.get(f"{self.web_url}/readyz")

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of /metrics: (name, sorted labels) → value, parsed by prometheus-client."""
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{self.metrics_url}/metrics")
        response.raise_for_status()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    async def rasa_pid(self) -> int:
        """The pid of the Rasa process, as /readyz reports it."""
        parts: dict[str, Any] = (await self.readyz()).json()["parts"]
        pid = parts["rasa"]["instances"][0]["pid"]
        assert isinstance(pid, int), parts
        return pid

    async def wait_ready(self, *, within: float) -> float:
        """Poll /readyz every 0.25 s until it answers 200; return the seconds it took."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not await self.is_ready():
            if self.process.returncode is not None:
                raise AssertionError(f"milchak run exited:\n{self.output}")
            if loop.time() - started > within:
                raise AssertionError(f"/readyz not 200 within {within} s")
            await asyncio.sleep(0.25)
        return loop.time() - started

    async def is_ready(self) -> bool:
        """/readyz answers 200 (False while the web side is not listening yet)."""
        try:
            return (await self.readyz()).status_code == 200
        except httpx.ConnectError:  # the web side is not listening yet
            return False

    async def stop(self) -> None:
        """SIGTERM; the exit code must be 0."""
        self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 60)
        assert self.process.returncode == 0, self.output


@asynccontextmanager
async def milchak_run_with_rasa(
    telegram: FakeTelegram,
    tmp_path: Path,
    database_url: str,
    *,
    rasa_replicas: int = 1,
    **settings: str,
) -> AsyncIterator[RunningMilchak]:
    """`milchak run` (Rasa included) on an upgraded database, polling the fake Bot API; with
    ``rasa_replicas`` > 1, `milchak run --rasa-replicas N` (settings must then name Redis and a
    PostgreSQL tracker store)."""
    web_port, rasa_port, metrics_port = free_port(), free_ports(rasa_replicas), free_port()
    env = {
        **os.environ,
        "MILCHAK_DATABASE_URL": database_url,
        "MILCHAK_TELEGRAM_TOKEN": telegram.token,
        "MILCHAK_TELEGRAM_BASE_URL": telegram.base_url,
        "MILCHAK_WEB_PORT": str(web_port),
        "MILCHAK_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "MILCHAK_RASA_TRACKER_URL": f"sqlite:///{tmp_path / 'run-trackers.db'}",
        "MILCHAK_METRICS_PORT": str(metrics_port),
        "MILCHAK_OUTBOX_INTERVAL": "0.2",
        **settings,
    }
    process = await asyncio.create_subprocess_exec(
        *milchak("run", *(["--rasa-replicas", str(rasa_replicas)] if rasa_replicas > 1 else [])),
        env=env,
        stdout=PIPE,
        stderr=STDOUT,
    )
    running = RunningMilchak(
        process, f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{metrics_port}", rasa_port
    )
    reader = asyncio.create_task(running._read_output())
    try:
        yield running
    finally:
        await stop_process(process)
        await asyncio.wait_for(reader, 10)  # the output ends with the process


async def stop_process(process: asyncio.subprocess.Process, *, grace: float = 60) -> None:
    """Stop a `milchak run` still running: SIGTERM, then SIGKILL after ``grace`` seconds.

    It is asked nicely first so that it stops what it started too (Rasa runs in its own process
    group, and a supervisor's replicas in theirs).
    """
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()
