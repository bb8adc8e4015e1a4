"""Parse Korean messages with the trained Rasa model; one JSON object per input line.

Runs inside the Rasa virtualenv (``.venv-rasa/bin/python -m nlu.parse``); the app reaches it
through ``milchak nlu parse``. The model is loaded once for all lines. With ``--nlu-data`` it
parses the examples of a Rasa NLU YAML file instead and adds the gold intent and entities, which
is what ``scripts/eval_nlu.py`` scores.

Lines go through the model's NLU graph in batches (``--batch-size``): one graph run per batch,
and DIET predicts a whole batch in one TensorFlow call instead of one call per message, which is
where the time goes. Results are the same as parsing one message at a time (``--batch-size 1``,
Rasa's own ``Agent.parse_message``).

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
BATCH_SIZE = 64


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
    """(text, gold) for each example of a Rasa NLU YAML file; gold names the file (``source``)."""
    from rasa.shared.nlu.training_data.loading import load_data

    for message in load_data(path).intent_examples:
        gold = {
            "source": os.path.basename(path),
            "intent": message.get("intent"),
            "entities": [{k: e.get(k) for k in ENTITY_KEYS} for e in message.get("entities") or []],
        }
        yield message.get("text"), gold


def _batched_diet_process(component: Any, messages: list[Any]) -> list[Any]:
    """``DIETClassifier.process`` for a list of messages with one inference call.

    Rasa's own ``process`` runs the network once per message. Here the messages' model data go
    through ``run_inference`` as a single padded batch and each message's row is then labelled
    exactly as Rasa does it (``_predict_label``, ``_predict_entities``).
    """
    from rasa.shared.nlu.constants import ENTITIES, INTENT

    if component.model is None or len(messages) < 2:
        return list(type(component).process(component, messages))
    model_data = component._create_model_data(messages, training=False)
    if model_data.is_empty() or model_data.number_of_examples() != len(messages):
        return list(type(component).process(component, messages))
    out = component.model.run_inference(model_data, batch_size=len(messages))
    config = component.component_config
    for index, message in enumerate(messages):
        row = {k: v[index : index + 1] for k, v in out.items() if hasattr(v, "shape")}
        if config.get("intent_classification", True):
            label, ranking = component._predict_label(row)
            message.set(INTENT, label, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        if config.get("entity_recognition", True):
            message.set(ENTITIES, component._predict_entities(row, message), add_to_output=True)
    return messages


def _combine_sparse_features(self: Any, additional_features: Any) -> None:
    """``Features._combine_sparse_features`` without ``scipy.sparse.hstack``.

    Rasa joins each message's featurizer outputs one ``hstack`` at a time; on matrices this small
    hstack's checks cost more than the join (a third of the parse time). Two COO matrices with
    the same rows join by shifting the second one's columns: the same matrix, same entry order.
    """
    import numpy as np
    from scipy.sparse import coo_matrix

    first, second = self.features.tocoo(), additional_features.features.tocoo()
    if first.shape[0] != second.shape[0]:
        raise ValueError(
            f"Cannot combine sparse features as sequence dimensions do not match: "
            f"{first.shape[0]} != {second.shape[0]}."
        )
    self.features = coo_matrix(
        (
            np.concatenate([first.data, second.data]),
            (
                np.concatenate([first.row, second.row]),
                np.concatenate([first.col, second.col + first.shape[1]]),
            ),
        ),
        shape=(first.shape[0], first.shape[1] + second.shape[1]),
    )
    self._cached_fingerprint = None


class BatchParser:
    """Parses lists of texts through a loaded agent's NLU graph, one graph run per batch."""

    def __init__(self, agent: Any) -> None:
        """Use ``agent``'s graph; DIET nodes get the batched ``process``, features a fast join."""
        from rasa.nlu.classifiers.diet_classifier import DIETClassifier
        from rasa.shared.nlu.training_data.features import Features

        Features._combine_sparse_features = _combine_sparse_features

        processor = agent.processor
        self._runner = processor.graph_runner
        self._target = processor.model_metadata.nlu_target
        self._agent = agent
        nodes = getattr(self._runner, "_instantiated_nodes", {})
        self.batched = False
        for node in nodes.values():
            if getattr(node, "_fn", None) is DIETClassifier.process:
                node._fn = _batched_diet_process
                self.batched = True

    def parse(self, texts: list[str]) -> list[dict[str, Any]]:
        """Rasa's parse data for each text, in order (as ``Agent.parse_message`` gives it)."""
        from rasa.core.channels.channel import UserMessage
        from rasa.shared.core.trackers import DialogueStateTracker
        from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT

        messages = [UserMessage(text) for text in texts]
        tracker = DialogueStateTracker.from_events("nlu.parse", [])
        results = self._runner.run(
            inputs={"__message__": messages, "__tracker__": tracker}, targets=[self._target]
        )
        parsed = []
        for message in results[self._target]:
            data: dict[str, Any] = {
                TEXT: "",
                INTENT: {"name": None, "confidence": 0.0},
                ENTITIES: [],
            }
            data.update(message.as_dict(only_output_properties=True))
            parsed.append(data)
        return parsed


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), max(size, 1)):
        yield items[start : start + max(size, 1)]


async def _run(args: argparse.Namespace, out: TextIO) -> None:
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        from rasa.core.agent import Agent

        agent = Agent.load(args.model)
    parser = BatchParser(agent) if args.batch_size > 1 else None

    async def parse_all(texts: list[str]) -> list[dict[str, Any]]:
        if parser is None:
            return [await agent.parse_message(text) if text.strip() else {} for text in texts]
        found = [text for text in texts if text.strip()]
        results = iter(parser.parse(found) if found else [])
        return [next(results) if text.strip() else {} for text in texts]

    loaded = time.perf_counter()
    if args.nlu_data:
        examples = [example for path in args.nlu_data for example in _gold_examples(path)]
        for batch in _batches(examples, args.batch_size):
            parsed = await parse_all([text for text, _ in batch])
            for (text, gold), result in zip(batch, parsed, strict=True):
                line = result_line(text, result)
                out.write(json.dumps({**line, "gold": gold}, ensure_ascii=False) + "\n")
        return
    texts: list[str] = args.texts
    for batch in _batches(texts, args.batch_size):
        for text, result in zip(batch, await parse_all(batch), strict=True):
            out.write(json.dumps(result_line(text, result), ensure_ascii=False) + "\n")
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
                    "batch_size": args.batch_size,
                    "batched_diet": bool(parser and parser.batched),
                }
            ),
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m nlu.parse", description=__doc__)
    parser.add_argument("text", nargs="?", help="one message to parse")
    parser.add_argument("--file", help="a file with one message per line ('-' for stdin)")
    parser.add_argument(
        "--nlu-data", action="append", help="a Rasa NLU YAML file (repeatable): add gold labels"
    )
    parser.add_argument("--model", default="models/milchak.tar.gz", help="trained model")
    parser.add_argument("--now", help="ISO datetime that dates are relative to (Asia/Seoul)")
    parser.add_argument("--stats", action="store_true", help="timings as JSON on stderr")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        help=f"lines per graph run (default {BATCH_SIZE}; 1 = one Agent.parse_message per line)",
    )
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
