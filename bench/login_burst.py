"""How long a burst of console sign-ins stalls the event loop Telegram shares.

Run: .venv/bin/python -m bench.login_burst [--attempts 20]
``--attempts`` sign-ins (wrong passwords, each from its own address, on different accounts so
none is locked) start at once on a migrated SQLite database, while a ticker on the same loop
wakes every 10 ms. Prints the burst's wall time and the ticker's worst and median lateness:
first with argon2 checked on the loop (how sign-in worked before), then as the app does it now
(in the argon2 worker threads).
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.db import create_engine_and_sessions, session_scope
from bot.db.migrate import upgrade
from bot.services import admin_users
from bot.services.admin_users import authenticate, create_admin_user

TICK = 0.010


async def _ticker(stop: asyncio.Event, lateness: list[float]) -> None:
    while not stop.is_set():
        expected = time.perf_counter() + TICK
        await asyncio.sleep(TICK)
        lateness.append(max(time.perf_counter() - expected, 0.0))


async def _burst(
    attempts: int, run: Callable[[int], Awaitable[object]]
) -> tuple[float, list[float]]:
    stop = asyncio.Event()
    lateness: list[float] = []
    ticker = asyncio.create_task(_ticker(stop, lateness))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    await asyncio.gather(*(run(n) for n in range(attempts)))
    wall = time.perf_counter() - started
    stop.set()
    await ticker
    return wall, lateness


def _print(label: str, wall: float, lateness: list[float]) -> None:
    print(
        f"{label:<22} wall {wall:6.2f} s   loop lateness: worst {max(lateness) * 1000:7.1f} ms, "
        f"median {statistics.median(lateness) * 1000:6.1f} ms ({len(lateness)} ticks)"
    )


async def main(attempts: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine, sessions = create_engine_and_sessions(f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}")
        await upgrade(engine)
        async with session_scope(sessions) as session:
            for n in range(attempts):
                await create_admin_user(
                    session, username=f"user{n}", password="correct-horse-1", role="admin"
                )
        user = admin_users._DUMMY_HASH

        async def on_the_loop(n: int) -> object:
            await asyncio.sleep(0)
            return admin_users._verify(user, f"wrong-{n}")  # what authenticate did before

        async def as_the_app_does(n: int) -> object:
            return await authenticate(
                sessions, username=f"user{n}", password="wrong", address=f"10.0.{n}.1"
            )

        print(f"{attempts} sign-ins at once (argon2id, {admin_users._hasher.memory_cost} KiB):")
        _print("argon2 on the loop", *await _burst(attempts, on_the_loop))
        _print("argon2 in threads", *await _burst(attempts, as_the_app_does))
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=20)
    asyncio.run(main(parser.parse_args().attempts))
