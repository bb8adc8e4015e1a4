"""What a turn costs Rasa's tracker store as conversations grow: Rasa's own ``SQLTrackerStore``
against milchak's (``bot.rasa_tracker_store`` with its indexes, and ``bot.rasa_speedups``).

Runs in Rasa's virtualenv:
    PYTHONPATH=. .venv-rasa/bin/python -m bench.tracker_store [--history 200,1000,3000]

A SQLite tracker database fills with ``--senders`` interleaved conversations, every sender's
current session ``--session`` events long (as after the store's rolling); at each history length
(events per sender) it prints, over 50 random senders, the mean time of ``retrieve`` (the load at
the start of a turn) and of ``save`` after one turn's five events (its end), in wall-clock
and in CPU time (the difference is mostly the commit's wait for the disk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_speedups
from bot.rasa_tracker_store import SessionRollingTrackerStore

SAMPLES = 50


def stored_events(sender: str, first: int, count: int, session: int) -> list[dict[str, Any]]:
    """Rows as Rasa stores them: a turn of ten events (user, bot, actions, slots), a new
    session every ``session`` events."""
    rows = []
    for n in range(first, first + count):
        stamp = 1e9 + n
        if n % session == 0:
            data: dict[str, Any] = {"event": "session_started"}
        elif n % 10 == 1:
            parse = {
                "intent": {"name": "greet", "confidence": 0.99},
                "entities": [],
                "text": "안녕하세요",
                "intent_ranking": [{"name": f"intent_{i}", "confidence": 0.01} for i in range(10)],
            }
            data = {"event": "user", "text": "안녕하세요", "parse_data": parse}
        elif n % 10 == 3:
            data = {"event": "bot", "text": "안녕하세요, 무엇을 도와드릴까요?", "data": {}}
        elif n % 10 in (2, 4):
            data = {"event": "action", "name": "action_listen", "policy": "RulePolicy"}
        else:
            data = {"event": "slot", "name": "pending_offer", "value": None}
        data["timestamp"] = stamp
        rows.append(
            {
                "sender_id": sender,
                "type_name": data["event"],
                "timestamp": stamp,
                "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            }
        )
    return rows


def one_turn(tracker: DialogueStateTracker) -> None:
    """What a turn appends: the message, the bot's action and reply, a slot, listening."""
    tracker.update(UserUttered("안녕하세요", {"name": "greet", "confidence": 0.99}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("안녕하세요, 무엇을 도와드릴까요?"))
    tracker.update(SlotSet("pending_offer", None))
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))


async def measure(store: SQLTrackerStore, args: argparse.Namespace) -> None:
    have = 0
    for history in args.history:
        with store.session_scope() as session:
            rows = []
            for chunk in range(have, history, 10):  # senders take turns, as in a busy hour
                for sender in range(args.senders):
                    rows += stored_events(f"ph{sender}", chunk, 10, args.session)
            session.bulk_insert_mappings(store.SQLEvent, rows)
            session.commit()
        have = history
        senders = [f"ph{random.randrange(args.senders)}" for _ in range(SAMPLES)]
        loading = saving = loading_cpu = saving_cpu = 0.0
        for sender in senders:
            started, started_cpu = time.perf_counter(), time.process_time()
            tracker = await store.retrieve(sender)
            loading += time.perf_counter() - started
            loading_cpu += time.process_time() - started_cpu
            assert tracker is not None
            one_turn(tracker)
            started, started_cpu = time.perf_counter(), time.process_time()
            await store.save(tracker)
            saving += time.perf_counter() - started
            saving_cpu += time.process_time() - started_cpu
        print(
            f"  {history:>6} events per sender:"
            f"  retrieve {loading * 1000 / SAMPLES:5.2f} ms ({loading_cpu * 1000 / SAMPLES:5.2f} CPU)"
            f"  save of a turn {saving * 1000 / SAMPLES:5.2f} ms"
            f" ({saving_cpu * 1000 / SAMPLES:5.2f} CPU)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--history", default="200,1000,3000")
    parser.add_argument("--senders", type=int, default=100)
    parser.add_argument("--session", type=int, default=200, help="events in a current session")
    args = parser.parse_args()
    args.history = [int(n) for n in args.history.split(",")]
    domain = Domain.load("domain.yml")
    with tempfile.TemporaryDirectory() as tmp:
        print("Rasa's SQLTrackerStore:")
        stock = SQLTrackerStore(domain, dialect="sqlite", db=str(Path(tmp) / "stock.db"))
        asyncio.run(measure(stock, args))
        print("milchak's (indexes, event types by table):")
        rasa_speedups.install()
        ours = SessionRollingTrackerStore(
            domain, dialect="sqlite", db=str(Path(tmp) / "ours.db"), session_events=10**9
        )
        asyncio.run(measure(ours, args))


if __name__ == "__main__":
    main()
