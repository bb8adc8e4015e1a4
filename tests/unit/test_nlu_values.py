"""The rule-based value entities the Rasa extractor adds, and the CLI's argument checks."""

from datetime import datetime

from click.testing import CliRunner

from bot.cli import main
from nlu.dates import SEOUL
from nlu.values import extract_values, normalise

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SEOUL)


def test_values_with_exact_offsets() -> None:
    text = "다음주 토요일에 아버지 댁 이사인데 비용 3백만원이요"
    found = extract_values(text, NOW)
    assert [(e["entity"], text[e["start"] : e["end"]], e["value"]) for e in found] == [
        ("date", "다음주 토요일", "2026-12-05"),
        ("relation", "아버지", "father"),
        ("amount", "3백만원", 3_000_000),
    ]


def test_date_wins_over_amount_and_family_over_speaker() -> None:
    text = "제가 이달30일에 어머니 장례를 치러요"
    found = extract_values(text, NOW)
    assert [(e["entity"], e["value"]) for e in found] == [
        ("date", "2026-11-30"),
        ("relation", "mother"),
    ]


def test_hangul_numeral_date_next_to_hangul_amount() -> None:
    text = "이십일에 오십만 원 빌려주세요"
    found = extract_values(text, NOW)
    assert [(e["entity"], text[e["start"] : e["end"]], e["value"]) for e in found] == [
        ("date", "이십일", "2026-12-20"),
        ("amount", "오십만 원", 500_000),
    ]
    assert [e["entity"] for e in extract_values("십일만 원이요", NOW)] == ["amount"]


def test_speaker_alone_is_self() -> None:
    assert [e["value"] for e in extract_values("저 결혼해요", NOW)] == ["self"]


def test_normalise_by_entity_type() -> None:
    assert normalise("amount", "오십만 원", NOW) == 500_000
    assert normalise("date", "12/20", NOW) == "2026-12-20"
    assert normalise("date", "십이월 이십일", NOW) == "2026-12-20"
    assert normalise("relation", "장인어른", NOW) == "in_law"
    assert normalise("date", "내년 3월쯤", NOW) == "2027-03"
    assert normalise("date", "다음 주 중에", NOW) == "2026-W49"
    assert normalise("place", "만수동", NOW) is None


def test_cli_needs_exactly_one_input() -> None:
    result = CliRunner().invoke(main, ["nlu", "parse"])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["nlu", "parse", "안녕", "--file", "x.txt"])
    assert result.exit_code == 2
