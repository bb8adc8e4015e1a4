"""The supervisor: restart backoff and per-window limit, and real child processes restarted when
they exit or stop answering their probe; background workers restarted when they crash."""

# ruff: noqa: ASYNC109

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot import metrics
from bot.runner import stop_process
from bot.supervisor import RasaSupervisor, RestartBudget, RestartPolicy, keep_running
from tests.auxil.waiting import eventually

POLICY = RestartPolicy(base_delay=2.0, max_delay=60.0, limit=5, window=600.0, stable_after=60.0)


def test_first_restart_is_immediate_then_the_wait_doubles_up_to_the_cap() -> None:
    budget = RestartBudget(RestartPolicy(base_delay=2.0, max_delay=20.0, limit=100, window=60.0))
    waits = []
    now = 0.0
    for _ in range(7):
        wait = budget.delay(now)
        waits.append(wait)
        now += wait + 1  # the restarted process dies again a second later
        budget.record(now)
    assert waits == [0.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]


def test_running_well_forgives_earlier_failures() -> None:
    budget = RestartBudget(POLICY)
    for now in (0.0, 1.0, 3.0):
        budget.record(now)
    assert budget.delay(4.0) == 8.0
    budget.ran_well()
    assert budget.delay(4.0) == 0.0  # the next failure is a first one again


def test_the_window_limit_holds_the_next_restart_until_the_oldest_leaves_the_window() -> None:
    budget = RestartBudget(RestartPolicy(base_delay=1.0, max_delay=1.0, limit=3, window=100.0))
    for now in (0.0, 10.0, 20.0):
        budget.record(now)
    assert budget.limited(30.0)
    assert budget.delay(30.0) == 70.0  # the restart at 0 leaves the window at 100
    assert not budget.limited(100.0)
    assert budget.delay(100.0) == 1.0  # only the backoff is left
    budget.record(100.0)
    assert budget.delay(101.0) == 9.0  # now the restart at 10 must leave first (at 110)


def test_the_limit_counts_restarts_in_any_window_not_in_a_row() -> None:
    budget = RestartBudget(RestartPolicy(base_delay=0.0, max_delay=0.0, limit=2, window=50.0))
    budget.record(0.0)
    budget.ran_well()
    budget.record(30.0)
    budget.ran_well()  # each ran well for a while: no backoff …
    assert budget.delay(40.0) == 10.0  # … but two restarts in 50 s is the limit


def sleeper() -> subprocess.Popen[bytes]:
    """A stand-in child process: sleeps in its own session, as `rasa run` is started."""
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )


class Probe:
    """The health probe's answers, switched by the test; counts its calls."""

    def __init__(self) -> None:
        self.answering = True
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        return self.answering


def restarts(instance: str, reason: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "milchak_rasa_restarts_total", {"rasa": instance, "reason": reason}
    )
    return value or 0.0


@pytest.fixture
async def started() -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        stop_process(process, grace=2)


def supervisor(
    name: str,
    probe: Callable[[], Awaitable[bool]],
    started: list[subprocess.Popen[bytes]],
    *,
    hand_over: bool = True,
    **options: object,
) -> RasaSupervisor:
    """A supervisor of sleepers; with ``hand_over`` the first one is already up."""

    def start() -> subprocess.Popen[bytes]:
        process = sleeper()
        started.append(process)
        return process

    return RasaSupervisor(
        name=name,
        port=0,
        start=start,
        terminate=lambda p: stop_process(p, grace=2),
        probe=probe,
        process=start() if hand_over else None,
        probe_interval=0.05,
        **options,  # type: ignore[arg-type]
    )


async def run_until(
    watched: RasaSupervisor, condition: Callable[[], bool], timeout: float = 10.0
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(watched.run(stop))
    try:
        await eventually(condition, timeout)
    finally:
        stop.set()
        await task


async def test_a_process_that_exits_is_started_again_and_counted(
    started: list[subprocess.Popen[bytes]],
) -> None:
    probe = Probe()
    watched = supervisor("t-exit", probe, started)
    first = watched.process
    assert first is not None
    before = restarts("t-exit", "exited")
    first.kill()  # as the OOM killer would
    await run_until(watched, lambda: watched.restarts == 1 and watched.state == "up")
    assert watched.process is not None and watched.process.pid != first.pid
    assert watched.process.poll() is None
    assert watched.last_failure is not None and "exited" in watched.last_failure.detail
    assert restarts("t-exit", "exited") == before + 1


async def test_a_process_that_stops_answering_is_killed_and_started_again(
    started: list[subprocess.Popen[bytes]],
) -> None:
    probe = Probe()
    watched = supervisor("t-hang", probe, started, probe_failures=3)
    first = watched.process
    assert first is not None
    probe.answering = False  # alive, but hung: only the probe can tell

    def restarted_and_hung_one_gone() -> bool:
        if watched.restarts == 1:
            probe.answering = True
        return watched.restarts == 1 and watched.state == "up"

    await run_until(watched, restarted_and_hung_one_gone)
    assert first.poll() is not None  # the hung process was stopped, not left behind
    assert watched.last_failure is not None and watched.last_failure.kind == "unresponsive"
    assert restarts("t-hang", "unresponsive") >= 1


async def test_one_failed_probe_is_not_a_hang(started: list[subprocess.Popen[bytes]]) -> None:
    answers = iter([False, False, True] * 3)
    calls = 0

    async def flaky() -> bool:  # slow answers now and then, never three in a row
        nonlocal calls
        calls += 1
        return next(answers, True)

    watched = supervisor("t-blip", flaky, started, probe_failures=3)
    await run_until(watched, lambda: calls >= 9)
    assert watched.restarts == 0 and watched.state == "up"


async def test_a_process_that_never_gets_ready_is_started_again_after_the_start_timeout(
    started: list[subprocess.Popen[bytes]],
) -> None:
    probe = Probe()
    probe.answering = False  # the model never finishes loading
    watched = supervisor("t-slow", probe, started, hand_over=False, start_timeout=0.5)
    assert watched.state == "starting" and watched.process is None
    await run_until(watched, lambda: watched.restarts == 1)
    assert len(started) == 2 and started[0].poll() is not None
    assert watched.last_failure is not None and watched.last_failure.kind == "start_timeout"
    assert watched.state == "starting"


async def test_a_slow_start_within_the_timeout_is_left_alone(
    started: list[subprocess.Popen[bytes]],
) -> None:
    probe = Probe()
    probe.answering = False
    watched = supervisor("t-loading", probe, started, hand_over=False, start_timeout=30)
    await run_until(watched, lambda: probe.calls >= 20)  # 20 failed probes while loading
    assert watched.restarts == 0 and watched.state == "starting"
    probe.answering = True
    await run_until(watched, lambda: watched.state == "up")
    assert len(started) == 1


async def test_the_restart_limit_keeps_a_crash_loop_down_and_says_so(
    started: list[subprocess.Popen[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    probe = Probe()
    policy = RestartPolicy(base_delay=0.0, max_delay=0.0, limit=2, window=600.0)
    watched = supervisor("t-loop", probe, started, policy=policy)

    async def crash_loop() -> None:  # every new process dies at once
        while True:
            for process in started:
                if process.poll() is None:
                    process.kill()
            await asyncio.sleep(0.02)

    killer = asyncio.create_task(crash_loop())
    try:
        await run_until(watched, lambda: "next try in" in caplog.text, timeout=15)
        assert watched.restarts == 2  # the third restart waits for the window
        assert watched.state == "down" and not watched.healthy
        assert watched.down_for() > 0
    finally:
        killer.cancel()


async def test_a_crashed_worker_is_restarted_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    runs = 0

    async def flaky_worker() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("database went away")
        await stop.wait()

    def worker_restarts() -> float:
        value = metrics.REGISTRY.get_sample_value(
            "milchak_worker_restarts_total", {"worker": "t-flaky"}
        )
        return value or 0.0

    before = worker_restarts()
    task = asyncio.create_task(keep_running("t-flaky", flaky_worker, stop))
    await eventually(lambda: runs == 2)
    assert worker_restarts() == before + 1
    assert "worker t-flaky crashed" in caplog.text
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_worker_that_returns_early_is_restarted_but_not_after_stop() -> None:
    stop = asyncio.Event()
    runs = 0

    async def quitter() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            stop.set()

    policy = RestartPolicy(base_delay=0.01, max_delay=0.01, limit=10, window=60.0)
    await asyncio.wait_for(keep_running("t-quitter", quitter, stop, policy=policy), 5)
    assert runs == 3


async def test_stop_interrupts_a_backoff_wait() -> None:
    stop = asyncio.Event()

    async def always_fails() -> None:
        raise RuntimeError("boom")

    policy = RestartPolicy(base_delay=30.0, max_delay=30.0, limit=10, window=60.0)
    task = asyncio.create_task(keep_running("t-stop", always_fails, stop, policy=policy))
    await asyncio.sleep(0.2)  # first restart at once, then a 30 s wait
    stop.set()
    await asyncio.wait_for(task, 2)
