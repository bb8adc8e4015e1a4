"""Parse Korean messages with the trained Rasa model; one JSON object per input line.

Runs inside the Rasa virtualenv (``.venv-rasa/bin/python -m nlu.parse``); the app reaches it
through ``milchak nlu parse``. The model is loaded once for all lines. With ``--nlu-data`` it
parses the examples of a Rasa NLU YAML file instead and adds the gold intent and entities, which
is what ``scripts/eval_nlu.py`` scores.

Output (``value`` normalised: amount → int won, date → "YYYY-MM-DD", relation → code)::

    {"text": …, "intent": {"name": …, "confidence": …},
     "entities": [{"entity": …, "value": …, "start": …, "end": …}]}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

NOW_ENV = "MILCHAK_NOW"
ENTITY_KEYS = ("entity", "value", "start", "end")


def _quiet() -> None:
    """Keep Rasa and TensorFlow chatter off the terminal: stdout carries only JSON."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    logging.disable(logging.WARNING)
    import warnings

    import structlog  # Rasa's structured logs print to stdout at debug level otherwise

    warnings.filterwarnings("ignore")
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )


def result_line(text: str, parsed: dict[str, Any]) -> dict[str, Any]:
    """The public shape of one parse: text, intent name and confidence, entities."""
    intent = parsed.get("intent") or {}
    confidence = intent.get("confidence")
    return {
        "text": text,
        "intent": {
            "name": intent.get("name"),
            "confidence": round(float(confidence), 4) if confidence is not None else 0.0,
        },
        "entities": [{k: e.get(k) for k in ENTITY_KEYS} for e in parsed.get("entities", [])],
    }


def _lines(source: TextIO) -> Iterator[str]:
    for raw in source:
        yield raw.rstrip("\r\n")


def _gold_examples(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(text, gold) for each example of a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    for message in load_data(path).intent_examples:
        gold = {
            "intent": message.get("intent"),
            "entities": [{k: e.get(k) for k in ENTITY_KEYS} for e in message.get("entities") or []],
        }
        yield message.get("text"), gold


async def _run(args: argparse.Namespace, out: TextIO) -> None:
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        from rasa.core.agent import Agent

        agent = Agent.load(args.model)
    loaded = time.perf_counter()
    if args.nlu_data:
        for text, gold in _gold_examples(args.nlu_data):
            line = result_line(text, await agent.parse_message(text))
            out.write(json.dumps({**line, "gold": gold}, ensure_ascii=False) + "\n")
        return
    texts: list[str] = args.texts
    for text in texts:
        parsed = await agent.parse_message(text) if text.strip() else {}
        out.write(json.dumps(result_line(text, parsed), ensure_ascii=False) + "\n")
        out.flush()
    if args.stats:
        parsing = time.perf_counter() - loaded
        rate = len(texts) / parsing if parsing else float("inf")
        print(
            json.dumps(
                {
                    "load_seconds": round(loaded - started, 2),
                    "parse_seconds": round(parsing, 3),
                    "sentences": len(texts),
                    "sentences_per_second": round(rate, 1),
                }
            ),
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m nlu.parse", description=__doc__)
    parser.add_argument("text", nargs="?", help="one message to parse")
    parser.add_argument("--file", help="a file with one message per line ('-' for stdin)")
    parser.add_argument("--nlu-data", help="a Rasa NLU YAML file: parse and add gold labels")
    parser.add_argument("--model", default="models/milchak.tar.gz", help="trained model")
    parser.add_argument("--now", help="ISO datetime that dates are relative to (Asia/Seoul)")
    parser.add_argument("--stats", action="store_true", help="timings as JSON on stderr")
    args = parser.parse_args(argv)
    if sum(x is not None for x in (args.text, args.file, args.nlu_data)) != 1:
        parser.error("give exactly one of TEXT, --file or --nlu-data")
    if args.now:
        os.environ[NOW_ENV] = args.now
    if args.file == "-":
        args.texts = list(_lines(sys.stdin))
    elif args.file:
        with open(args.file, encoding="utf-8") as source:
            args.texts = list(_lines(source))
    else:
        args.texts = [args.text]
    if not os.path.exists(args.model):
        print(f"model not found: {args.model} (run `make train`)", file=sys.stderr)
        return 2
    _quiet()
    asyncio.run(_run(args, sys.stdout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
