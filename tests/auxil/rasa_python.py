"""Run a snippet in the Rasa virtualenv against the trained model (for NLU contract tests)."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.runner import MODEL

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def run_with_model(script: str, stdin: str) -> Any:
    """Run ``script`` (given the model path as argv[1]); its last stdout line, parsed as JSON."""
    if not RASA_PYTHON.exists() or not MODEL.exists():
        pytest.fail(f"needs {RASA_PYTHON} and {MODEL}: run `make train` first")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    env["PYTHONWARNINGS"] = "ignore"
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", script, str(MODEL)],
        input=stdin,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
