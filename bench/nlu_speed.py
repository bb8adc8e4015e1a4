"""Benchmark: ``nlu.parse --file`` throughput once the model is loaded.

Parses every example of data/nlu and tests/nlu (repeated up to ``--sentences``) in one process
and prints load time and sentences per second. Target: ≥ 200 sentences/s on 2 cores.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_EXAMPLE = re.compile(r"^\s*- (.+)$")
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([a-z_]+\)|\{[^}]*\})")


def corpus() -> list[str]:
    """Plain example texts from the training and held-out YAML files."""
    texts = []
    for path in sorted([*ROOT.glob("data/nlu/*.yml"), *ROOT.glob("tests/nlu/*.yml")]):
        in_examples = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("examples:"):
                in_examples = True
            elif in_examples and (m := _EXAMPLE.match(line)):
                texts.append(_ANNOTATION.sub(r"\1", m.group(1)).strip())
            elif line.strip().startswith("- intent:") or line.strip().startswith("- lookup:"):
                in_examples = line.strip().startswith("- intent:")
    return [t for t in texts if t]


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "milchak.tar.gz"))
    parser.add_argument("--sentences", type=int, default=1000)
    args = parser.parse_args()
    texts = corpus()
    texts = (texts * (args.sentences // len(texts) + 1))[: args.sentences]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    env["PYTHONWARNINGS"] = "ignore"
    command = [str(ROOT / ".venv-rasa" / "bin" / "python"), "-m", "nlu.parse", "--stats"]
    command += ["--model", args.model, "--file", f.name]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    os.unlink(f.name)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        return 1
    stats = json.loads(done.stderr.strip().splitlines()[-1])
    lines = len(done.stdout.splitlines())
    print(f"model load: {stats['load_seconds']} s")
    print(
        f"parsed {stats['sentences']} sentences ({lines} JSON lines) in "
        f"{stats['parse_seconds']} s: {stats['sentences_per_second']} sentences/s (target ≥ 200)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
