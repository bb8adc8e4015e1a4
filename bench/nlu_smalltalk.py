"""Benchmark: how often everyday small talk is taken for a business intent (target ≤ 3%).

Parses chit-chat written for this benchmark, in neither the training nor the held-out data:
``smalltalk.txt`` (the first set), ``smalltalk_extra.txt`` (written before the chit-chat training
data was extended), ``smalltalk_fresh.txt`` (written after it) and ``smalltalk_blind.txt``
(committed before the second round of NLU work and never looked at while choosing training data)
and ``smalltalk_blind2.txt`` (issue 12: 200 lines by a writer who had not read data/, frozen
before the third round, its errors read only after the round-one score). Business intents are those that start or feed a
request; greetings, thanks, yes/no, out_of_scope and nlu_fallback are harmless.
"""

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARMLESS = {"out_of_scope", "nlu_fallback", "greet", "goodbye", "thank", "affirm", "deny", None}
FILES = [
    ROOT / "bench" / f"{name}.txt"
    for name in (
        "smalltalk",
        "smalltalk_extra",
        "smalltalk_fresh",
        "smalltalk_blind",
        "smalltalk_blind2",
    )
]


def small_talk_lines(path: Path) -> list[str]:
    """The sentences of a small-talk file (lines starting with # are its header)."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def parse(model: str, paths: list[Path]) -> list[dict[str, object]]:
    """Parse the lines of ``paths`` in one process; each row gets its ``source`` file name."""
    lines = {path: small_talk_lines(path) for path in paths}
    sources = [path.name for path in paths for _ in lines[path]]
    text = "".join(line + "\n" for path in paths for line in lines[path])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    env["PYTHONWARNINGS"] = "ignore"
    command = [str(ROOT / ".venv-rasa" / "bin" / "python"), "-m", "nlu.parse", "--model", model]
    command += ["--file", "-"]
    done = subprocess.run(
        command, cwd=ROOT, env=env, input=text, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(1)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return [{**row, "source": source} for row, source in zip(rows, sources, strict=True)]


def main() -> int:
    """Run the benchmark and print the rate per file and the offending sentences."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", nargs="?", default=str(ROOT / "models" / "milchak.tar.gz"))
    parser.add_argument("--file", type=Path, action="append", help="instead of the default sets")
    args = parser.parse_args()
    paths = args.file or FILES
    rows = parse(args.model, paths)
    for name in [p.name for p in paths] + ["all"]:
        part = [r for r in rows if name in ("all", r["source"])]
        business = [r for r in part if r["intent"]["name"] not in HARMLESS]  # type: ignore[index]
        print(
            f"{name}: {len(part)} parsed, taken for business {len(business)} = "
            f"{len(business) / len(part):.1%} (target ≤ 3%)"
        )
    print("predicted:", dict(Counter(r["intent"]["name"] for r in rows).most_common()))  # type: ignore[index]
    for r in rows:
        if r["intent"]["name"] not in HARMLESS:  # type: ignore[index]
            print(f"  {r['text']!r} → {r['intent']['name']} {r['intent']['confidence']}")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
