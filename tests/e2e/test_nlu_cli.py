"""`milchak nlu parse` as a user runs it: the installed command, the trained model, real output.

Each call loads the model (10-20 s alone on 2 cores), so two calls cover both input forms.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.runner import MODEL

MILCHAK = Path(sys.executable).with_name("milchak")
NOW = "2026-11-25T10:00:00+09:00"  # a Wednesday

pytestmark = pytest.mark.e2e


def milchak_nlu_parse(*args: str, stdin: str | None = None) -> list[dict[str, object]]:
    """Run the command; its stdout must be nothing but one JSON object per line."""
    if not MODEL.exists():
        pytest.fail(f"needs the trained model {MODEL}: run `make train` first")
    done = subprocess.run(
        [str(MILCHAK), "nlu", "parse", "--now", NOW, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_one_sentence_with_normalised_values() -> None:
    [row] = milchak_nlu_parse("이달30일 우리아빠 이사하는데 트랜스팩 예약해주세요")
    assert row["text"] == "이달30일 우리아빠 이사하는데 트랜스팩 예약해주세요"
    assert row["intent"]["name"] == "book_moving"  # type: ignore[index]
    assert 0.0 < row["intent"]["confidence"] <= 1.0  # type: ignore[index]
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in row["entities"]] == [  # type: ignore[attr-defined]
        ("date", "2026-11-30", 0, 5),
        ("relation", "father", 8, 10),
    ]


def test_file_gives_one_line_per_input_line(tmp_path: Path) -> None:
    lines = ["3백만원 약관대출 받고 싶어요", "", "천오백만 원이요", "어머니가 돌아가셨어요", "ㅋㅋ"]
    source = tmp_path / "messages.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = milchak_nlu_parse("--file", str(source))
    assert [r["text"] for r in rows] == lines
    values = [[(e["entity"], e["value"]) for e in r["entities"]] for r in rows]  # type: ignore[attr-defined]
    assert values == [
        [("amount", 3_000_000)],
        [],
        [("amount", 15_000_000)],
        [("relation", "mother")],
        [],
    ]
    intents = [r["intent"]["name"] for r in rows]  # type: ignore[index]
    assert intents[0] == "request_loan"
    assert intents[1] is None  # an empty line is echoed, not guessed at
    assert intents[3] == "book_funeral"
