"""Measure the NLU: held-out intent and entity scores, normalised values, cross-validation.

Runs with the app's Python (standard library only) and shells out to the Rasa virtualenv:
``nlu.parse --nlu-data`` parses the held-out set with the trained model (the full pipeline, so
FallbackClassifier's ``nlu_fallback`` counts as a miss), and ``rasa test nlu`` produces Rasa's
own reports. The small-talk files (bench/smalltalk*.txt) are parsed in the same run: a line taken
for a business intent is a miss. ``--gate`` fails (exit 1) below the thresholds, overall and on
each held-out set and small-talk file; it never retrains.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RASA_VENV = ROOT / ".venv-rasa" / "bin"
VALUE_ENTITIES = ("amount", "date", "relation")
DEFAULT_NOW = "2026-11-25T10:00:00+09:00"  # the held-out dates are written relative to this
# Small talk answered by one of these is harmless; any other intent starts or feeds a request.
HARMLESS = {"out_of_scope", "nlu_fallback", "greet", "goodbye", "thank", "affirm", "deny"}


def rasa_env(now: str) -> dict[str, str]:
    """Environment for Rasa subprocesses: our components importable, no telemetry, fixed now."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
        "MILCHAK_NOW": now,
    }


def parse_gold(model: Path, data: list[Path], now: str) -> list[dict[str, Any]]:
    """Parse every example of the ``data`` files with ``model`` (loaded once); each row has the
    prediction and ``gold``, whose ``source`` is the file name."""
    command = [str(RASA_VENV / "python"), "-m", "nlu.parse", "--model", str(model)]
    command += ["--now", now]
    for path in data:
        command += ["--nlu-data", str(path)]
    done = subprocess.run(
        command, cwd=ROOT, env=rasa_env(now), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"nlu.parse failed ({done.returncode})")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def smalltalk_as_nlu_data(paths: list[Path], directory: Path) -> list[Path]:
    """Each small-talk text file as an NLU YAML file of ``out_of_scope`` examples (same stem), so
    that one ``nlu.parse`` run (one model load) covers the held-out sets and the small talk."""
    written = []
    for path in paths:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        # Lines starting with # are the file's own header, not small talk.
        examples = "".join(f"    - {line}\n" for line in lines if line and not line.startswith("#"))
        target = directory / f"{path.stem}.txt.yml"
        target.write_text(
            f'version: "3.1"\nnlu:\n- intent: out_of_scope\n  examples: |\n{examples}',
            encoding="utf-8",
        )
        written.append(target)
    return written


def smalltalk_business(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The small-talk rows taken for a business intent."""
    return [r for r in rows if r["intent"]["name"] not in HARMLESS]


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, score


def intent_scores(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-intent P/R/F1 over the gold intents, their macro average, and the confused pairs."""
    pairs = Counter((r["gold"]["intent"], r["intent"]["name"]) for r in rows)
    labels = sorted({r["gold"]["intent"] for r in rows})
    per_intent = {}
    for label in labels:
        tp = pairs[(label, label)]
        fp = sum(n for (g, p), n in pairs.items() if p == label and g != label)
        fn = sum(n for (g, p), n in pairs.items() if g == label and p != label)
        p, r, score = f1(tp, fp, fn)
        per_intent[label] = {"precision": p, "recall": r, "f1": score, "support": tp + fn}
    confused = sorted(
        ((g, p, n) for (g, p), n in pairs.items() if g != p), key=lambda x: (-x[2], x[0], x[1])
    )
    correct = sum(pairs[(label, label)] for label in labels)
    return {
        "macro_f1": sum(v["f1"] for v in per_intent.values()) / len(per_intent),
        "accuracy": correct / len(rows),
        "per_intent": per_intent,
        "confused": [{"gold": g, "predicted": p, "count": n} for g, p, n in confused],
    }


def _key(entity: dict[str, Any]) -> tuple[str, int, int]:
    return entity["entity"], entity["start"], entity["end"]


def entity_scores(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Exact-span entity P/R/F1 (micro and per type) and normalised-value exact match."""
    counts: dict[str, Counter[str]] = {}
    value_total = value_match = span_and_value = 0
    misses = []
    for row in rows:
        gold = {_key(e): e for e in row["gold"]["entities"]}
        predicted = {_key(e): e for e in row["entities"]}
        for key in gold.keys() | predicted.keys():
            c = counts.setdefault(key[0], Counter())
            c["tp" if key in gold and key in predicted else "fn" if key in gold else "fp"] += 1
        for g in row["gold"]["entities"]:
            if g["entity"] not in VALUE_ENTITIES:
                continue
            value_total += 1
            same = [
                p
                for p in row["entities"]
                if p["entity"] == g["entity"] and p["start"] < g["end"] and g["start"] < p["end"]
            ]
            if any(str(p["value"]) == str(g["value"]) for p in same):
                value_match += 1
                span_and_value += any(_key(p) == _key(g) for p in same)
            else:
                misses.append({"text": row["text"], "gold": g, "predicted": same})
    total = Counter[str]()
    per_type = {}
    for name, c in sorted(counts.items()):
        total.update(c)
        p, r, score = f1(c["tp"], c["fp"], c["fn"])
        per_type[name] = {"precision": p, "recall": r, "f1": score, "support": c["tp"] + c["fn"]}
    p, r, score = f1(total["tp"], total["fp"], total["fn"])
    return {
        "micro": {"precision": p, "recall": r, "f1": score},
        "per_type": per_type,
        "value_exact_match": value_match / value_total if value_total else 1.0,
        "value_and_span_exact_match": span_and_value / value_total if value_total else 1.0,
        "value_total": value_total,
        "value_misses": misses,
    }


def run_rasa_test(args: argparse.Namespace, *extra: str, out: Path) -> None:
    """``rasa test nlu`` with reports under ``out``."""
    command = [str(RASA_VENV / "rasa"), "test", "nlu", "--out", str(out), *extra]
    print(f"==> {' '.join(command[1:])}", flush=True)
    subprocess.run(command, cwd=ROOT, env=rasa_env(args.now), check=True)


# Rasa scores every extractor against every gold entity type; each of ours owns only some.
OWNED_TYPES = {
    "KoreanValueExtractor_report": VALUE_ENTITIES,
    "FastLoadingDIETClassifier_report": ("place", "product"),
}


def print_rasa_report(out: Path, title: str) -> None:
    """Macro F1 from Rasa's intent report and each extractor's F1 on the types it owns."""
    intent = json.loads((out / "intent_report.json").read_text())
    print(f"{title}: intent macro-F1 {intent['macro avg']['f1-score']:.3f}")
    for name, owned in OWNED_TYPES.items():
        path = out / f"{name}.json"
        if not path.exists():
            continue
        report = json.loads(path.read_text())
        rows = {k: report[k] for k in owned if isinstance(report.get(k), dict)}
        scores = ", ".join(f"{k} {v['f1-score']:.3f} (n={v['support']})" for k, v in rows.items())
        scores = scores or "none of its types annotated here (rule values: see the held-out sets)"
        print(f"{title}: {name.removesuffix('_report')} token-level entity F1: {scores}")


CONFIDENCE_BINS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01))


def calibration(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How far the intent confidence can be trusted: accuracy per confidence band, fallbacks."""
    answered = [r for r in rows if r["intent"]["name"] != "nlu_fallback"]
    bands = []
    for low, high in CONFIDENCE_BINS:
        part = [r for r in answered if low <= r["intent"]["confidence"] < high]
        right = sum(r["intent"]["name"] == r["gold"]["intent"] for r in part)
        bands.append({"from": low, "to": min(high, 1.0), "count": len(part), "correct": right})
    wrong = [r for r in answered if r["intent"]["name"] != r["gold"]["intent"]]
    return {
        "fallback": len(rows) - len(answered),
        "wrong": len(wrong),
        "wrong_at_0_9_or_more": sum(r["intent"]["confidence"] >= 0.9 for r in wrong),
        "bands": bands,
    }


def main(argv: list[str] | None = None) -> int:
    """Evaluate; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "milchak.tar.gz")
    parser.add_argument("--heldout", type=Path, default=ROOT / "tests" / "nlu")
    parser.add_argument("--now", default=DEFAULT_NOW)
    parser.add_argument("--reports", type=Path, default=ROOT / "reports")
    parser.add_argument("--rasa-test", action="store_true", help="also run rasa test nlu")
    parser.add_argument("--cross-validation", action="store_true", help="5-fold CV on data/nlu")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--gate", action="store_true", help="exit 1 below the thresholds")
    parser.add_argument("--min-intent-f1", type=float, default=0.93)
    parser.add_argument("--min-value-match", type=float, default=0.95)
    parser.add_argument(
        "--smalltalk",
        type=Path,
        action="append",
        help="small-talk text file, one line each (repeatable; default bench/smalltalk*.txt)",
    )
    parser.add_argument(
        "--max-smalltalk-business",
        type=float,
        default=0.05,
        help="gate: most small talk taken for business in any one file (all files: --max-all)",
    )
    parser.add_argument("--max-smalltalk-business-all", type=float, default=0.03)
    args = parser.parse_args(argv)
    args.reports.mkdir(parents=True, exist_ok=True)

    sets = sorted(args.heldout.glob("*.yml")) if args.heldout.is_dir() else [args.heldout]
    talk_files = args.smalltalk or sorted((ROOT / "bench").glob("smalltalk*.txt"))
    with tempfile.TemporaryDirectory() as scratch:
        talk_sets = smalltalk_as_nlu_data(talk_files, Path(scratch))
        parsed = parse_gold(args.model, sets + talk_sets, args.now)
    talk_names = {path.name for path in talk_sets}
    rows = [r for r in parsed if r["gold"]["source"] not in talk_names]
    talk = {
        path.name.removesuffix(".yml"): [r for r in parsed if r["gold"]["source"] == path.name]
        for path in talk_sets
    }
    all_talk = [r for r in parsed if r["gold"]["source"] in talk_names]
    by_set = {path.name: [r for r in rows if r["gold"]["source"] == path.name] for path in sets}
    intents, entities = intent_scores(rows), entity_scores(rows)
    print(f"held-out examples: {len(rows)}  (model {args.model}, now {args.now})")
    for name, part in by_set.items():
        print(
            f"  {name}: {len(part)} examples, intent macro-F1 {intent_scores(part)['macro_f1']:.3f}"
            f", value exact match {entity_scores(part)['value_exact_match']:.3f}"
        )
    print(f"intent macro-F1: {intents['macro_f1']:.3f}   accuracy: {intents['accuracy']:.3f}")
    for name, s in intents["per_intent"].items():
        print(f"  {name:<17} F1 {s['f1']:.3f}  P {s['precision']:.3f}  R {s['recall']:.3f}")
    calibrated = calibration(rows)
    intents["calibration"] = calibrated
    print(
        f"confidence: {calibrated['fallback']} sent to nlu_fallback, {calibrated['wrong']} wrong "
        f"answers, {calibrated['wrong_at_0_9_or_more']} of them at confidence ≥ 0.9"
    )
    for band in calibrated["bands"]:
        share = band["correct"] / band["count"] if band["count"] else 0.0
        print(
            f"  {band['from']:.1f}–{band['to']:.1f}: {band['count']:>3} answered, {share:.0%} right"
        )
    print("confused pairs (gold → predicted):")
    for c in intents["confused"] or [{"gold": "-", "predicted": "-", "count": 0}]:
        print(f"  {c['gold']} → {c['predicted']}: {c['count']}")
    micro = entities["micro"]
    print(f"entity micro-F1 (exact span): {micro['f1']:.3f}")
    for name, s in entities["per_type"].items():
        print(f"  {name:<9} F1 {s['f1']:.3f}  P {s['precision']:.3f}  R {s['recall']:.3f}")
    print(
        f"normalised-value exact match: {entities['value_exact_match']:.3f} "
        f"of {entities['value_total']} (with exact span: "
        f"{entities['value_and_span_exact_match']:.3f})"
    )
    for miss in entities["value_misses"]:
        print(f"  miss: {miss['text']!r} gold {miss['gold']} got {miss['predicted']}")
    for name, part in [*talk.items(), ("all small talk", all_talk)]:
        taken = smalltalk_business(part)
        share = len(taken) / len(part) if part else 0.0
        print(
            f"{name}: {len(part)} small-talk lines, taken for business {len(taken)} = {share:.1%}"
        )
    for r in smalltalk_business(all_talk):
        print(f"  business: {r['text']!r} → {r['intent']['name']} {r['intent']['confidence']:.2f}")
    (args.reports / "nlu_heldout.json").write_text(
        json.dumps({"intents": intents, "entities": entities}, ensure_ascii=False, indent=2)
    )

    if args.rasa_test:
        out = args.reports / "heldout"
        run_rasa_test(args, "--model", str(args.model), "--nlu", str(args.heldout), out=out)
        print_rasa_report(out, "rasa test (held-out)")
    if args.cross_validation:
        out = args.reports / "cv"
        run_rasa_test(
            args,
            "--nlu",
            "data/nlu",
            "--config",
            "config.yml",
            "--cross-validation",
            "--folds",
            str(args.folds),
            out=out,
        )
        print_rasa_report(out, f"{args.folds}-fold CV")

    if args.gate:
        failed = []
        for name, part in [("all held-out", rows), *by_set.items()]:
            macro = intent_scores(part)["macro_f1"]
            value = entity_scores(part)["value_exact_match"]
            if macro < args.min_intent_f1:
                failed.append(f"{name}: intent macro-F1 {macro:.3f} < {args.min_intent_f1}")
            if value < args.min_value_match:
                failed.append(f"{name}: value exact match {value:.3f} < {args.min_value_match}")
        for name, part, limit in [
            *((n, p, args.max_smalltalk_business) for n, p in talk.items()),
            ("all small talk", all_talk, args.max_smalltalk_business_all),
        ]:
            share = len(smalltalk_business(part)) / len(part) if part else 0.0
            if share > limit:
                failed.append(f"{name}: small talk taken for business {share:.1%} > {limit:.0%}")
        if failed:
            print("NLU gate FAILED: " + "; ".join(failed))
            return 1
        print("NLU gate passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
