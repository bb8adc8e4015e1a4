"""The event loop of the long-running commands (`milchak run`, `milchak chat`, `milchak web`).

uvloop where it is installed (a dependency everywhere but Windows, which it does not support):
the app's CPU goes mostly to sockets, HTTP and callbacks, which uvloop runs in C. Profiled at
15 messages/s (stop 21), asyncio's own loop and transports took about a fifth of the app's
CPU. Tests run their stacks on asyncio's loop, and `milchak run` subprocesses on this one.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on uvloop if it is there, else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:  # Windows
        return asyncio.run(main)
    return uvloop.run(main)
