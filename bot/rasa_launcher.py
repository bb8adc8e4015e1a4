"""``python -m bot.rasa_launcher run …``: `rasa run` with its API token from the environment.

Runs in Rasa's own virtualenv (standard library and Rasa only). ``rasa run --auth-token X``
would show the token to every local user in ``ps``; a process's environment is readable by
its own user only, so ``milchak run`` passes ``MILCHAK_RASA_TOKEN`` there and this module adds
it to the arguments inside the process. It also installs ``bot.rasa_speedups`` first.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    token = os.environ.get("MILCHAK_RASA_TOKEN", "")
    if not token:
        raise SystemExit("MILCHAK_RASA_TOKEN is not set: Rasa's API would be open to anyone")
    from rasa.__main__ import main as rasa_main

    from bot import rasa_speedups

    rasa_speedups.install()

    sys.argv = ["rasa", *sys.argv[1:], "--auth-token", token]
    rasa_main()


if __name__ == "__main__":
    main()
