"""Keep alive what `milchak run` depends on: its Rasa processes and its background workers.

A Rasa process is restarted when it exits (a crash, the kernel's OOM killer) and when it stops
answering its health probe (a hung process keeps its pid but answers nothing). Restarts back off
(at once, then 2, 4, 8 … seconds, at most a minute) while a process keeps failing, and at most
``limit`` restarts happen in any ``window``: loading Rasa's model takes a core for half a minute,
so a crash loop must not starve the app. The limit delays the next restart, it never gives up:
the admins are told (bot/health.py) while Rasa stays down.

Each ``RasaSupervisor`` watches one process on its own port, so several can run side by side;
``milchak run --replicas`` watches its app replicas with the same class (``kind="app"``).
While Rasa is down the app keeps its outage behaviour (bot/conversation.py): the message is
stored, the customer told, and one question request opened per outage.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot import metrics

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class RestartPolicy:
    """How quickly and how often something is restarted."""

    base_delay: float = 2.0  # the second restart in a row waits this long, then it doubles
    max_delay: float = 60.0
    limit: int = 5  # restarts at most this many times …
    window: float = 600.0  # … in any window of this many seconds
    stable_after: float = 60.0  # running well this long forgives earlier failures


class RestartBudget:
    """Backoff and the per-window limit, on a clock that the caller passes in (seconds)."""

    def __init__(self, policy: RestartPolicy) -> None:
        self.policy = policy
        self.in_a_row = 0  # restarts since the last time things ran well
        self._times: deque[float] = deque()

    def backoff(self) -> float:
        """The wait the backoff alone asks for before the next restart."""
        if self.in_a_row == 0:
            return 0.0  # a first failure is restarted at once: customers are waiting
        return min(self.policy.base_delay * 2 ** (self.in_a_row - 1), self.policy.max_delay)

    def delay(self, now: float) -> float:
        """Seconds to wait before the next restart: the backoff, or longer if the window is full."""
        self._forget_before(now - self.policy.window)
        wait = self.backoff()
        if len(self._times) >= self.policy.limit:
            # The oldest restart that keeps the window full must leave it first.
            free_at = self._times[-self.policy.limit] + self.policy.window
            wait = max(wait, free_at - now)
        return wait

    def limited(self, now: float) -> bool:
        """Whether the per-window limit (not just the backoff) is holding the next restart."""
        self._forget_before(now - self.policy.window)
        return len(self._times) >= self.policy.limit

    def record(self, now: float) -> None:
        """A restart happened at ``now``."""
        self._times.append(now)
        self.in_a_row += 1

    def ran_well(self) -> None:
        """The restarted thing has been fine for ``stable_after``: the next failure is a first."""
        self.in_a_row = 0

    def _forget_before(self, cutoff: float) -> None:
        while self._times and self._times[0] <= cutoff:
            self._times.popleft()


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; True when stopping."""
    if seconds > 0:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            pass
    return stop.is_set()


@dataclass(frozen=True)
class Failure:
    kind: str  # exited | unresponsive | start_timeout | start_failed: the metric's reason label
    detail: str


class RasaSupervisor:
    """Run one Rasa process on ``port`` and restart it when it dies or hangs."""

    def __init__(
        self,
        *,
        name: str,
        port: int,
        start: Callable[[], subprocess.Popen[bytes]],
        terminate: Callable[[subprocess.Popen[bytes]], None],
        probe: Callable[[], Awaitable[bool]],
        process: subprocess.Popen[bytes] | None = None,
        policy: RestartPolicy = RestartPolicy(),
        probe_interval: float = 2.0,
        probe_failures: int = 3,
        start_timeout: float = 600.0,
        clock: Clock = time.monotonic,
        kind: str = "Rasa",
    ) -> None:
        self.name, self.port, self.kind = name, port, kind
        # Rasa processes and app replicas have their own series.
        self._up_gauge, self._restart_counter = (
            (metrics.APP_UP, metrics.APP_RESTARTS)
            if kind == "app"
            else (metrics.RASA_UP, metrics.RASA_RESTARTS)
        )
        self._start, self._terminate, self._probe = start, terminate, probe
        self.process = process
        self.budget = RestartBudget(policy)
        self.probe_interval, self.probe_failures = probe_interval, probe_failures
        self.start_timeout = start_timeout
        self._clock = clock
        # A process handed over by the caller has already answered its first probe.
        self.state = "up" if process is not None else "starting"
        self.restarts = 0
        self.last_failure: Failure | None = None
        self._failed_probes = 0
        self._since = clock()  # when the current state began
        self._down_since: float | None = None
        self._up_gauge.labels(name).set(1 if self.state == "up" else 0)

    @property
    def healthy(self) -> bool:
        return self.current_state() == "up"

    def current_state(self) -> str:
        """The state, corrected for an exit the next check has not seen yet (checking whether
        the process still runs costs nothing, unlike the HTTP probe)."""
        if self.state == "up" and (self.process is None or self.process.poll() is not None):
            return "down"
        return self.state

    def down_for(self) -> float:
        """Seconds since the process last answered (0 while it is up)."""
        return 0.0 if self._down_since is None else self._clock() - self._down_since

    def snapshot(self) -> dict[str, Any]:
        """What /readyz shows for this process."""
        return {
            "name": self.name,
            "port": self.port,
            "state": self.current_state(),
            "pid": self.process.pid if self.process is not None else None,
            "restarts": self.restarts,
            "down_seconds": round(self.down_for(), 1),
            "last_failure": self.last_failure.detail if self.last_failure else None,
        }

    async def run(self, stop: asyncio.Event) -> None:
        """Watch (and restart) the process until ``stop`` is set; the caller stops it after."""
        if self.process is None:
            self._launch()
        while not stop.is_set():
            failure = await self.check()
            if failure is not None:
                if await self.restart(failure, stop):
                    return
                continue
            if await wait_or_stop(stop, self.probe_interval):
                return

    async def check(self) -> Failure | None:
        """Look at the process once: None while it is fine or still loading its model."""
        now = self._clock()
        if self.process is None:
            return Failure("start_failed", "could not be started")
        code = self.process.poll()
        if code is not None:
            return Failure("exited", f"exited with code {code}")
        if await self._probe():
            self._failed_probes = 0
            if self.state != "up":
                if self.restarts:
                    log.warning(
                        "%s %s (pid %s, port %s) answers again, %.0f s after it went down",
                        self.kind,
                        self.name,
                        self.process.pid,
                        self.port,
                        self.down_for(),
                    )
                self._enter("up")
                self._down_since = None
                self._up_gauge.labels(self.name).set(1)
            elif now - self._since >= self.budget.policy.stable_after:
                self.budget.ran_well()
            return None
        if self.state == "starting":
            if now - self._since > self.start_timeout:
                return Failure("start_timeout", f"not ready {self.start_timeout:.0f} s after start")
            return None
        self._failed_probes += 1
        if self._failed_probes >= self.probe_failures:
            return Failure("unresponsive", f"no answer to {self._failed_probes} probes in a row")
        return None

    async def restart(self, failure: Failure, stop: asyncio.Event) -> bool:
        """Stop what is left of the process, wait as the budget says, start a new one.

        Returns True when ``stop`` was set while waiting (nothing was started then).
        """
        self.last_failure = failure
        if self._down_since is None:
            self._down_since = self._clock()
        self._up_gauge.labels(self.name).set(0)
        pid = self.process.pid if self.process is not None else None
        log.warning(
            "%s %s (pid %s, port %s) %s", self.kind, self.name, pid, self.port, failure.detail
        )
        if self.process is not None:
            # SIGTERM, then SIGKILL after a grace period: in a thread, the loop keeps serving.
            await asyncio.to_thread(self._terminate, self.process)
        self._enter("down")
        now = self._clock()
        delay = self.budget.delay(now)
        if delay > 0:
            if self.budget.limited(now):
                log.error(
                    "%s %s restarted %s times within %.0f s: next try in %.0f s",
                    self.kind,
                    self.name,
                    self.budget.policy.limit,
                    self.budget.policy.window,
                    delay,
                )
            else:
                log.warning("%s %s: restarting in %.0f s (backoff)", self.kind, self.name, delay)
            if await wait_or_stop(stop, delay):
                return True
        self.budget.record(self._clock())
        self.restarts += 1
        self._restart_counter.labels(self.name, failure.kind).inc()
        self._launch()
        return False

    def _launch(self) -> None:
        self._failed_probes = 0
        try:
            self.process = self._start()
        except (OSError, SystemExit) as error:  # start_rasa exits when the model is missing
            log.error("%s %s could not be started: %s", self.kind, self.name, error)
            self.process = None
            self._enter("down")
            return
        log.warning(
            "%s %s started (pid %s, port %s)", self.kind, self.name, self.process.pid, self.port
        )
        self._enter("starting")

    def _enter(self, state: str) -> None:
        self.state = state
        self._since = self._clock()


WORKER_POLICY = RestartPolicy(base_delay=1.0, max_delay=60.0, limit=10, window=600.0)


async def keep_running(
    name: str,
    work: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
    *,
    policy: RestartPolicy = WORKER_POLICY,
    clock: Clock = time.monotonic,
) -> None:
    """Run the background worker ``work()`` until ``stop`` is set, restarting it whenever it
    crashes or returns early: a worker is never silently gone."""
    budget = RestartBudget(policy)
    while not stop.is_set():
        started = clock()
        try:
            await work()
        except Exception:
            log.exception("worker %s crashed", name)
        else:
            if stop.is_set():
                return
            log.error("worker %s stopped on its own", name)
        now = clock()
        if now - started >= policy.stable_after:
            budget.ran_well()
        delay = budget.delay(now)
        log.warning("restarting worker %s in %.0f s", name, delay)
        if await wait_or_stop(stop, delay):
            return
        budget.record(clock())
        metrics.WORKER_RESTARTS.labels(name).inc()
