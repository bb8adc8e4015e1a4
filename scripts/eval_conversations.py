"""Score the conversation tests (tests/conversations/*.yml) end to end and print pass rates.

Starts one Rasa on the trained model and one app against the fake Telegram Bot API (as the
pytest module does), plays every conversation from a fresh start as 이영숙, and prints per file
the share of conversations and of turns that pass; ``--failures`` also prints each failed
conversation with what the bot said. Exit code 0 whatever the score: it measures, it does not
gate (``make test`` runs the same conversations as tests).

    .venv/bin/python scripts/eval_conversations.py [--failures] [FILE.yml ...]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.auxil.conversations import (  # noqa: E402
    ConversationOutcome,
    conversation_files,
    conversation_world,
    load_file,
)


def rate(passed: int, total: int) -> str:
    return f"{passed}/{total} ({100 * passed / total:.1f} %)" if total else "0/0"


def summary(outcomes: list[ConversationOutcome]) -> list[str]:
    """One line per file, and one for all files: conversations and turns that pass."""
    by_file: dict[str, list[ConversationOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_file[outcome.conversation.file].append(outcome)
    lines = []
    for name, group in [*sorted(by_file.items()), ("all", outcomes)]:
        turns = [t for o in group for t in o.turns]
        expected_turns = sum(len(o.conversation.turns) for o in group)
        lines.append(
            f"{name:<24} conversations {rate(sum(o.passed for o in group), len(group)):<18}"
            f" turns {rate(sum(t.passed for t in turns), expected_turns)}"
        )
    return lines


async def evaluate(files: list[Path], show_failures: bool) -> list[ConversationOutcome]:
    conversations = [c for path in files for c in load_file(path)]
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="milchak-conversations-") as tmp:
        async with conversation_world(Path(tmp)) as driver:
            started = time.monotonic()
            for conversation in conversations:
                outcome = await driver.run(conversation)
                outcomes.append(outcome)
                mark = "pass" if outcome.passed else "FAIL"
                print(f"  {mark}  {conversation.name}", flush=True)
                if show_failures and not outcome.passed:
                    print(outcome.report(), flush=True)
            elapsed = time.monotonic() - started
    turns = sum(len(o.turns) for o in outcomes)
    print(f"\n{len(outcomes)} conversations, {turns} turns in {elapsed:.0f} s")
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: tests/conversations/*.yml")
    parser.add_argument("--failures", action="store_true", help="print each failed conversation")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    files = args.files or conversation_files()
    outcomes = asyncio.run(evaluate(files, args.failures))
    print("\n".join(summary(outcomes)))


if __name__ == "__main__":
    main()
