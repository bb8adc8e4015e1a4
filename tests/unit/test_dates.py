"""Date normalisation relative to a Seoul 'now', and round-trip properties for M월 N일."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.dates import (
    SEOUL,
    Month,
    Week,
    When,
    find_dates,
    last_day,
    parse_date,
    today_in_seoul,
    when_from_iso,
    when_label,
)

# Wednesday 25 November 2026, 10:00 in Seoul.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SEOUL)

_HANGUL_DIGITS = "일이삼사오육칠팔구"


def hangul(n: int) -> str:
    """``n`` (1–99) in Hangul numerals as written in dates: 10 → 십, 25 → 이십오."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else "십" if tens == 1 else _HANGUL_DIGITS[tens - 1] + "십"
    return head + (_HANGUL_DIGITS[ones - 1] if ones else "")


def hangul_month(month: int, *, spoken: bool) -> str:
    """The month in Hangul; ``spoken`` gives 유월 and 시월 rather than 육월 and 십월."""
    return {6: "유", 10: "시"}[month] if spoken and month in (6, 10) else hangul(month)


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
        ("2월 5일", date(2027, 2, 5)),
        ("이월 5일", date(2027, 2, 5)),  # February, not 이 월 (this month)
        ("사흘 후", date(2026, 11, 28)),
        ("이틀 뒤", date(2026, 11, 27)),
        ("하루 뒤", date(2026, 11, 26)),
        ("나흘 후", date(2026, 11, 29)),
        ("닷새 뒤", date(2026, 11, 30)),
        ("엿새 뒤", date(2026, 12, 1)),
        ("일주일 뒤", date(2026, 12, 2)),
        ("2주 후", date(2026, 12, 9)),
        ("2주일 후", date(2026, 12, 9)),
        ("열흘 뒤", date(2026, 12, 5)),
        ("보름 뒤", date(2026, 12, 10)),
        ("10일 후에요", date(2026, 12, 5)),
    ],
)
def test_parse_date_forms(text: str, expected: date) -> None:
    assert parse_date(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("삼월 오일", date(2027, 3, 5)),
        ("삼월오일", date(2027, 3, 5)),
        ("삼월 오일이요", date(2027, 3, 5)),
        ("십이월 이십오일", date(2026, 12, 25)),
        ("십이월 이십오일에요", date(2026, 12, 25)),
        ("십일월 이십오일", date(2026, 11, 25)),
        ("십일월 삼일", date(2027, 11, 3)),
        ("일월 일일", date(2027, 1, 1)),
        ("이월 오일", date(2027, 2, 5)),
        ("이월 이십구일", date(2028, 2, 29)),
        ("시월 삼일", date(2027, 10, 3)),
        ("십월 삼일", date(2027, 10, 3)),
        ("유월 십일", date(2027, 6, 10)),
        ("육월 십일", date(2027, 6, 10)),
        ("삼월 5일", date(2027, 3, 5)),
        ("10월 삼일", date(2027, 10, 3)),
        ("십이월 이십일 일요일", date(2026, 12, 20)),
        ("2027년 일월 오일", date(2027, 1, 5)),
        ("내년 삼월 이일", date(2027, 3, 2)),
        ("내년삼월이일이에요", date(2027, 3, 2)),
        ("올해 십이월 삼십일일", date(2026, 12, 31)),
        ("이달 이십일", date(2026, 11, 20)),
        ("이달 삼십일", date(2026, 11, 30)),
        ("이번 달 이십팔일이요", date(2026, 11, 28)),
        ("다음 달 오일", date(2026, 12, 5)),
        ("다음달 이십일일이요", date(2026, 12, 21)),
        ("담달 십일", date(2026, 12, 10)),
        # A bare day: this month while it is still ahead, else next month (like 20일).
        ("이십일", date(2026, 12, 20)),
        ("이십일일", date(2026, 12, 21)),
        ("삼십일일", date(2026, 12, 31)),  # November has no 31st
        ("이십오일", date(2026, 11, 25)),
        ("이십칠일이요", date(2026, 11, 27)),
        ("삼십일", date(2026, 11, 30)),
        ("오일", date(2026, 12, 5)),
        ("일일", date(2026, 12, 1)),
        ("구일", date(2026, 12, 9)),
        ("십일", date(2026, 12, 10)),
        ("십오일", date(2026, 12, 15)),
        ("이십일에", date(2026, 12, 20)),
        ("이십일날이요", date(2026, 12, 20)),
        ("이십일일에는", date(2026, 12, 21)),
        ("오일까지요", date(2026, 12, 5)),
        ("일일이요", date(2026, 12, 1)),
        ("오일 토요일", date(2026, 12, 5)),
        ("오일(토)", date(2026, 12, 5)),
        ("삼일 뒤", date(2026, 11, 28)),
        ("십일 후", date(2026, 12, 5)),
        ("이십일일 뒤", date(2026, 12, 16)),
        ("이주 후", date(2026, 12, 9)),
    ],
)
def test_parse_hangul_numeral_dates(text: str, expected: date) -> None:
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
        "이월 삼십일",
        "삼십이일",
        "시월",
        "오일 금요일",  # 5 December 2026 is a Saturday
        "삼일 동안",
        "이십일간",
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
        ("십이월 이십오일에 결혼해요", [("십이월 이십오일", date(2026, 12, 25))]),
        ("식은 시월 삼일이에요", [("시월 삼일", date(2027, 10, 3))]),
        ("다음 달 오일 오후에 전화 주세요", [("다음 달 오일", date(2026, 12, 5))]),
        ("내년 유월 이십일일에 이사해요", [("내년 유월 이십일일", date(2027, 6, 21))]),
        (
            "이십일일에는 안 되고 이십오일이 좋아요",
            [("이십일일", date(2026, 12, 21)), ("이십오일", date(2026, 11, 25))],
        ),
        ("이십오일 저녁에 가요", [("이십오일", date(2026, 11, 25))]),
        ("발인은 오일이에요", [("오일", date(2026, 12, 5))]),
        ("열흘 뒤에 이사해요", [("열흘 뒤", date(2026, 12, 5))]),
        ("일요일에 봬요", [("일요일", date(2026, 11, 29))]),
    ],
)
def test_find_dates(text: str, found: list[tuple[str, date]]) -> None:
    spans = find_dates(text, NOW)
    assert [(s.text, s.value) for s in spans] == found
    for span in spans:
        assert text[span.start : span.end] == span.text


@pytest.mark.parametrize(
    "text",
    [
        "일일이 다 말해야 돼요",  # one by one
        "매일 전화해요",
        "이 일 좀 도와주세요",  # this work
        "이일 저일 다 했어요",
        "회사일이 바빠요",
        "친구일 수도 있어요",
        "일일 한도가 얼마예요",  # daily limit
        "일일요금이 얼마예요",
        "엔진 오일 교환해야 돼요",
        "차 엔진오일 갈 때가 됐네",
        "삼일 동안 기다렸어요",
        "삼일이나 걸렸어요",
        "삼십일 살이에요",  # 31 years old
        "이십일 명이 와요",
        "십일조 내요",
        "이십일세기",
        "구월동으로 이사해요",
        "십일만 원만 빌려주세요",  # 110,000 won
        # Holiday names are not understood, so 삼일절 is no date rather than the 3rd.
        "삼일절에 쉬어요",
    ],
)
def test_no_hangul_date_inside_ordinary_words(text: str) -> None:
    assert find_dates(text, NOW) == []


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


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(min_value=0, max_value=364),
    st.booleans(),
)
def test_hangul_month_day_round_trip(today: date, ahead: int, spoken: bool) -> None:
    target = today + timedelta(days=ahead)
    now = datetime(today.year, today.month, today.day, 12, tzinfo=SEOUL)
    month, day = hangul_month(target.month, spoken=spoken), hangul(target.day)
    assert parse_date(f"{month}월 {day}일", now) == target
    assert parse_date(f"{month}월{day}일이요", now) == target
    text = f"{month}월 {day}일에 예약할게요"
    (span,) = find_dates(text, now)
    assert (span.start, span.end, span.value) == (0, len(f"{month}월 {day}일"), target)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(min_value=1, max_value=31),
    st.sampled_from(["", "이달 ", "다음 달 ", "담달"]),
)
def test_hangul_day_reads_like_digits(today: date, day: int, prefix: str) -> None:
    now = datetime(today.year, today.month, today.day, 12, tzinfo=SEOUL)
    assert parse_date(f"{prefix}{hangul(day)}일", now) == parse_date(f"{prefix}{day}일", now)
    assert parse_date(f"{prefix}{hangul(day)}일에요", now) == parse_date(
        f"{prefix}{day}일에요", now
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("내년 3월", Month(2027, 3)),
        ("내년 3월쯤이요", Month(2027, 3)),
        ("내년 삼월 초", Month(2027, 3)),
        ("2027년 3월", Month(2027, 3)),
        ("3월쯤", Month(2027, 3)),
        ("12월 중에요", Month(2026, 12)),
        ("11월 말", Month(2026, 11)),
        ("다음달", Month(2026, 12)),
        ("다음 달 초요", Month(2026, 12)),
        ("다음달 중순", Month(2026, 12)),
        ("다음달 말", Month(2026, 12)),
        ("담달쯤", Month(2026, 12)),
        ("이번 달 안에", Month(2026, 11)),
        ("다음 주", Week(2026, 49)),
        ("다음주 중에요", Week(2026, 49)),
        ("다음 주 평일", Week(2026, 49)),
        ("이번 주 안에", Week(2026, 48)),
        ("다다음주", Week(2026, 50)),
        ("2주 뒤 주중", Week(2026, 50)),
        ("12월 첫째 주요", Week(2026, 49)),
        ("다음 달 둘째 주", Week(2026, 50)),
        ("12월 마지막 주", Week(2026, 53)),
        # A day, when one is given, stays a day.
        ("다음달 말일", date(2026, 12, 31)),
        ("다음주 토요일", date(2026, 12, 5)),
        ("이번 주말", date(2026, 11, 28)),
        ("2주 뒤", date(2026, 12, 9)),
        ("내년 3월 14일", date(2027, 3, 14)),
    ],
)
def test_rough_dates(text: str, expected: When) -> None:
    assert parse_date(text, NOW) == expected


@pytest.mark.parametrize(
    "text",
    ["내 월급", "다음 주소로 보내 주세요", "다음 월요일", "달력 주세요", "금주하고 있어요"],
)
def test_no_rough_date_in_other_words(text: str) -> None:
    assert not any(isinstance(s.value, Month | Week) for s in find_dates(text, NOW))


@pytest.mark.parametrize(
    ("value", "iso", "label"),
    [
        (date(2026, 12, 5), "2026-12-05", "2026년 12월 5일 (토)"),
        (Month(2027, 3), "2027-03", "2027년 3월 중"),
        (Week(2026, 49), "2026-W49", "2026년 12월 첫째 주"),
        (Week(2026, 48), "2026-W48", "2026년 11월 넷째 주"),
        (Week(2026, 53), "2026-W53", "2026년 12월 다섯째 주"),
    ],
)
def test_iso_and_label_round_trip(value: When, iso: str, label: str) -> None:
    assert value.isoformat() == iso
    assert when_from_iso(iso) == value
    assert when_label(value) == label


def test_last_day_of_rough_dates() -> None:
    assert last_day(Month(2026, 11)) == date(2026, 11, 30)
    assert last_day(Week(2026, 48)) == date(2026, 11, 29)
    assert when_from_iso("2026-13") is None and when_from_iso("2026-W60") is None
