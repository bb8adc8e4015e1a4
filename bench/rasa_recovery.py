"""How long customers get the outage answer after Rasa dies under `milchak run`.

Run: .venv/bin/python -m bench.rasa_recovery [--rounds 3] [--signal KILL|STOP]
Starts `milchak run` (its own Rasa, the trained model, a seeded SQLite database, the fake Bot
API), verifies one policyholder, then each round SIGKILLs the Rasa process (or SIGSTOPs it: a hang
that only the health probe can see) and has the
policyholder write "안녕하세요" again as soon as each answer arrives (every ``--pause`` seconds at
most) until an answer is a normal one. Prints, per round and as the median: kill → the
supervisor's new Rasa process, kill → /readyz 200 again, kill → the first normal answer, and
how many outage answers were given meanwhile. Rounds are ``--settle`` seconds apart, longer
than the supervisor's 60 s "ran well" time, so every kill is a first failure (no backoff).
"""

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from bot import texts
from bot.db import session_scope
from bot.db.models import Policyholder
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.running import RunningMilchak, milchak_run_with_rasa
from tests.auxil.stack import seeded_database
from tests.auxil.staff import Holder
from tests.e2e.conftest import Customer, texts_of

OUTAGE = texts.RASA_DOWN.split("(")[0].strip()


@dataclass
class Round:
    new_process: float
    ready: float
    first_normal_answer: float
    outage_answers: int
    load_cpu_seconds: float  # what the new Rasa used to load its model, whatever the load


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def new_pid(run: RunningMilchak, old: int, started: float) -> float:
    while True:
        try:
            if await run.rasa_pid() != old:
                return time.monotonic() - started
        except (OSError, KeyError, ValueError, AssertionError):
            pass
        await asyncio.sleep(0.1)


async def ready_again(run: RunningMilchak, started: float) -> float:
    while await run.is_ready():  # noqa: ASYNC110 (polling from outside), until the kill shows
        await asyncio.sleep(0.05)
    while not await run.is_ready():  # noqa: ASYNC110
        await asyncio.sleep(0.25)
    return time.monotonic() - started


async def one_round(
    run: RunningMilchak, customer: Customer, pause: float, how: signal.Signals
) -> Round:
    pid = await run.rasa_pid()
    os.kill(pid, how)
    killed = time.monotonic()
    spawned = asyncio.create_task(new_pid(run, pid, killed))
    ready = asyncio.create_task(ready_again(run, killed))
    outages = 0
    while True:
        sent = time.monotonic()
        answer = texts_of(await customer.say("안녕하세요"))
        if OUTAGE not in answer:
            first_normal = time.monotonic() - killed
            break
        outages += 1
        await asyncio.sleep(max(0.0, pause - (time.monotonic() - sent)))
    ready_after = await ready
    load_cpu = cpu_seconds(await run.rasa_pid())
    return Round(await spawned, ready_after, first_normal, outages, load_cpu)


async def main(rounds: int, pause: float, settle: float, how: signal.Signals) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        database_url, sessions = await seeded_database(tmp_path / "bench.db")
        async with session_scope(sessions) as session:
            policyholder = await session.scalar(
                select(Policyholder).where(Policyholder.name == "이영숙")
            )
            assert policyholder is not None
            holder = Holder.of(policyholder)
        async with (
            FakeTelegram() as telegram,
            milchak_run_with_rasa(
                telegram, tmp_path, database_url, MILCHAK_RASA_PROBE_INTERVAL="2"
            ) as run,
        ):
            started = await run.wait_ready(within=600)
            print(
                f"milchak run ready in {started:.1f} s (Rasa's first model load, "
                f"{cpu_seconds(await run.rasa_pid()):.0f} CPU-s); load average "
                f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )
            customer = Customer(telegram, holder)
            await customer.verify()
            results = []
            for number in range(1, rounds + 1):
                await asyncio.sleep(settle)
                result = await one_round(run, customer, pause, how)
                results.append(result)
                print(
                    f"round {number}: new Rasa process {result.new_process:.1f} s, "
                    f"/readyz 200 {result.ready:.1f} s, first normal answer "
                    f"{result.first_normal_answer:.1f} s after the kill "
                    f"({result.outage_answers} outage answers meanwhile); the new Rasa used "
                    f"{result.load_cpu_seconds:.0f} CPU-s to load"
                )
            spawn = statistics.median(r.new_process for r in results)
            ready = statistics.median(r.ready for r in results)
            normal = statistics.median(r.first_normal_answer for r in results)
            print(
                f"median over {len(results)} rounds: new process {spawn:.1f} s, "
                f"/readyz 200 {ready:.1f} s, first normal answer {normal:.1f} s"
            )
            await run.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between messages")
    parser.add_argument("--settle", type=float, default=65.0, help="seconds between rounds")
    parser.add_argument(
        "--signal",
        choices=["KILL", "STOP"],
        default="KILL",
        help="KILL: Rasa dies; STOP: Rasa hangs (alive, answering nothing)",
    )
    args = parser.parse_args()
    how = signal.Signals[f"SIG{args.signal}"]
    asyncio.run(main(args.rounds, args.pause, args.settle, how))
