"""Benchmark: how often everyday small talk is taken for a business intent (target ≤ 5%).

Parses ``bench/smalltalk.txt`` (chit-chat written for this benchmark, in neither the training
nor the held-out data). Business intents are those that start or feed a request; greetings,
thanks, yes/no, out_of_scope and nlu_fallback are harmless.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARMLESS = {"out_of_scope", "nlu_fallback", "greet", "goodbye", "thank", "affirm", "deny", None}


def main() -> int:
    """Run the benchmark and print the rate and the offending sentences."""
    model = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "models" / "milchak.tar.gz")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    env["PYTHONWARNINGS"] = "ignore"
    command = [str(ROOT / ".venv-rasa" / "bin" / "python"), "-m", "nlu.parse", "--model", model]
    command += ["--file", str(ROOT / "bench" / "smalltalk.txt")]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        return 1
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    business = [r for r in rows if r["intent"]["name"] not in HARMLESS]
    print(f"small talk parsed: {len(rows)}")
    print(f"taken for business: {len(business)} = {len(business) / len(rows):.1%} (target ≤ 5%)")
    print("predicted:", dict(Counter(r["intent"]["name"] for r in rows).most_common()))
    for r in business:
        print(f"  {r['text']!r} → {r['intent']['name']} {r['intent']['confidence']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
