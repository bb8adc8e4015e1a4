"""Date normalisation relative to a Seoul 'now', and a round-trip property for M월 N일."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.dates import SEOUL, find_dates, parse_date, today_in_seoul

# Wednesday 25 November 2026, 10:00 in Seoul.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("오늘", date(2026, 11, 25)),
        ("오늘이요", date(2026, 11, 25)),
        ("내일", date(2026, 11, 26)),
        ("낼이요", date(2026, 11, 26)),
        ("모레", date(2026, 11, 27)),
        ("내일모레요", date(2026, 11, 27)),
        ("글피", date(2026, 11, 28)),
        ("이번주 토요일", date(2026, 11, 28)),
        ("이번 주 월요일", date(2026, 11, 23)),
        ("다음주 토요일이요", date(2026, 12, 5)),
        ("다음 주 토요일", date(2026, 12, 5)),
        ("담주 금욜", date(2026, 12, 4)),
        ("다다음주 월요일", date(2026, 12, 7)),
        ("다다음주 일요일에요", date(2026, 12, 13)),
        ("이번 주말", date(2026, 11, 28)),
        ("토요일", date(2026, 11, 28)),
        ("수요일", date(2026, 11, 25)),
        ("화요일이요", date(2026, 12, 1)),
        ("이달 30일", date(2026, 11, 30)),
        ("이달30일", date(2026, 11, 30)),
        ("이번 달 28일", date(2026, 11, 28)),
        ("다음달 5일", date(2026, 12, 5)),
        ("다음 달 5일이요", date(2026, 12, 5)),
        ("담달 10일", date(2026, 12, 10)),
        ("다음달 말일", date(2026, 12, 31)),
        ("12월 20일", date(2026, 12, 20)),
        ("12월20일", date(2026, 12, 20)),
        ("12월 20일이요", date(2026, 12, 20)),
        ("11월 25일", date(2026, 11, 25)),
        ("11월 3일", date(2027, 11, 3)),
        ("1월 5일", date(2027, 1, 5)),
        ("내년 3월 1일", date(2027, 3, 1)),
        ("내년 12월 20일", date(2027, 12, 20)),
        ("올해 12월 31일", date(2026, 12, 31)),
        ("2026-12-20", date(2026, 12, 20)),
        ("2026.12.20", date(2026, 12, 20)),
        ("2027년 1월 5일", date(2027, 1, 5)),
        ("12/20", date(2026, 12, 20)),
        ("12/20 이요", date(2026, 12, 20)),
        ("20일이요", date(2026, 12, 20)),
        ("30일", date(2026, 11, 30)),
        ("3일 뒤", date(2026, 11, 28)),
        ("일주일 후에요", date(2026, 12, 2)),
        ("2주 뒤", date(2026, 12, 9)),
        ("다음주 토요일에 이사해요", date(2026, 12, 5)),
        ("12월 20일 일요일", date(2026, 12, 20)),
    ],
)
def test_parse_date_forms(text: str, expected: date) -> None:
    assert parse_date(text, NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "네",
        "아직 몰라요",
        "2월 30일",
        "13월 5일",
        "12월 20일 토요일",  # 20 December 2026 is a Sunday: contradictory
        "010-1234-5678",
        "KL-1994-000123",
        "30일 이내",
        "보낼게요",
        "다음 달 말씀드릴게요",
    ],
)
def test_parse_date_rejects(text: str) -> None:
    assert parse_date(text, NOW) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("이달30일 우리아빠 생일인데", [("이달30일", date(2026, 11, 30))]),
        ("다음주 토요일에 인천으로 이사 가요", [("다음주 토요일", date(2026, 12, 5))]),
        ("2월 30일 아니고 3월 2일", [("3월 2일", date(2027, 3, 2))]),
        ("계약일이 2020-03-15 이에요", [("2020-03-15", date(2020, 3, 15))]),
        ("저녁에 전화주세요", []),
        ("일요일 말고 월요일", [("일요일", date(2026, 11, 29)), ("월요일", date(2026, 11, 30))]),
    ],
)
def test_find_dates(text: str, found: list[tuple[str, date]]) -> None:
    spans = find_dates(text, NOW)
    assert [(s.text, s.value) for s in spans] == found
    for span in spans:
        assert text[span.start : span.end] == span.text


def test_now_is_read_in_seoul() -> None:
    late_utc = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)  # already 26 November in Seoul
    assert today_in_seoul(late_utc) == date(2026, 11, 26)
    assert parse_date("내일", late_utc) == date(2026, 11, 27)
    assert today_in_seoul(datetime(2026, 11, 25, 23, 59)) == date(2026, 11, 25)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(min_value=0, max_value=364),
)
def test_month_day_round_trip(today: date, ahead: int) -> None:
    target = today + timedelta(days=ahead)
    now = datetime(today.year, today.month, today.day, 12, tzinfo=SEOUL)
    assert parse_date(f"{target.month}월 {target.day}일", now) == target
    assert parse_date(f"{target.month}월{target.day}일이요", now) == target


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_iso_round_trip(day: date) -> None:
    assert parse_date(day.isoformat(), NOW) == day
