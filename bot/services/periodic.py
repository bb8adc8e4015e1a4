"""The loop behind every background job: run a round, wait, repeat until asked to stop."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_every(
    interval: float,
    stop: asyncio.Event,
    round_: Callable[[], Awaitable[bool | None]],
    *,
    name: str,
) -> None:
    """Run ``round_`` every ``interval`` seconds until ``stop`` is set.

    A round that returns True has more work waiting and runs again at once. A failing round is
    logged and retried next time: a briefly unreachable database must not kill the job.
    """
    while not stop.is_set():
        try:
            busy = await round_()
        except Exception:
            log.exception("%s round failed", name)
            busy = False
        if busy:
            continue
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
