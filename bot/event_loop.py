"""The event loop of the long-running commands (`milchak run`, `milchak chat`, `milchak web`).

uvloop where it is installed (a dependency everywhere but Windows, which it does not support):
a profile of the app at 15 messages/s put most of its CPU in sockets, HTTP and callbacks, which
uvloop runs in C. Tests run their in-process stacks on asyncio's loop; the tests that start
`milchak run` as a subprocess run it on this one.
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
