"""The NLU gate's small-talk plumbing: text files become gold YAML for one parse run."""

from pathlib import Path

import yaml

from scripts.eval_nlu import smalltalk_as_nlu_data, smalltalk_business


def test_smalltalk_lines_become_out_of_scope_examples(tmp_path: Path) -> None:
    source = tmp_path / "smalltalk_x.txt"
    source.write_text(
        "# 출처와 작성 규칙을 적는 머리말\n오늘 날씨 좋네요\n\n  손주가 걸음마를 해요  \n", "utf-8"
    )
    (written,) = smalltalk_as_nlu_data([source], tmp_path)
    assert written.name == "smalltalk_x.txt.yml"
    data = yaml.safe_load(written.read_text("utf-8"))
    (block,) = data["nlu"]
    assert block["intent"] == "out_of_scope"
    assert block["examples"].splitlines() == [
        "- 오늘 날씨 좋네요",
        "- 손주가 걸음마를 해요",
    ]  # the '#' header line is a comment, not a sentence


def test_only_business_intents_count_against_small_talk() -> None:
    rows = [
        {"intent": {"name": name}}
        for name in ("out_of_scope", "nlu_fallback", "greet", "thank", "complaint", "book_moving")
    ]
    assert [r["intent"]["name"] for r in smalltalk_business(rows)] == ["complaint", "book_moving"]
