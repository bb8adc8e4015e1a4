"""Dates in Korean → ``datetime.date``, relative to a given moment in Asia/Seoul.

Understands 오늘 내일 모레 글피 (and 어제, 그제), 이번주 / 다음주 / 다다음주 + 요일, bare 요일
(the next one), 이번 주말, 이달 / 다음달 N일 and 말일, M월 N일 (next occurrence), 올해 / 내년
M월 N일, 2026년 12월 20일, 2026-12-20, 12/20, N일 (this month or next), and N일 / N주 뒤.
Only the standard library is used: the app imports this module too.
"""

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nlu.spans import Span, drop_overlaps

SEOUL = ZoneInfo("Asia/Seoul")

_WEEKDAYS = {"월": 0, "화": 1, "수": 2, "목": 3, "금": 4, "토": 5, "일": 6}
_DAY_WORDS = {
    "오늘": 0,
    "금일": 0,
    "내일": 1,
    "낼": 1,
    "모레": 2,
    "내일모레": 2,
    "낼모레": 2,
    "글피": 3,
    "어제": -1,
    "그제": -2,
    "그저께": -2,
}
_COUNT_WORDS = {"하루": 1, "이틀": 2, "사흘": 3, "나흘": 4, "닷새": 5, "일주일": 7}
_WEEK_OFFSETS = {
    "지난": -1,
    "저번": -1,
    "이번": 0,
    "금": 0,
    "다음": 1,
    "담": 1,
    "차": 1,
    "다다음": 2,
}
_MONTH_OFFSETS = {"지난": -1, "저번": -1, "이": 0, "이번": 0, "금": 0, "다음": 1, "담": 1, "내": 1}
_MONTH_OFFSETS["다다음"] = 2
_YEAR_OFFSETS = {"올해": 0, "금년": 0, "올": 0, "내년": 1, "명년": 1, "내후년": 2, "후년": 2}

_NOT_AFTER_DIGIT = r"(?<![\d.,/-])"
_NOT_BEFORE_DIGIT = r"(?![\d/-])"
_WEEKDAY = r"(?P<wd>[월화수목금토일])(?:요일|욜)"
_NOT_IN_WORD = r"(?<![가-힣])"
# An explicit date may carry its weekday: 12월 20일 일요일, 12/20(일). A wrong weekday voids it.
_CHECK = (
    r"(?:\s?(?:\((?P<chk1>[월화수목금토일])(?:요일)?\)|(?P<chk2>[월화수목금토일])(?:요일|욜)))?"
)

Resolver = Callable[[re.Match[str], date], date | None]


def _safe(year: int, month: int, day: int) -> date | None:
    """``date(year, month, day)`` or ``None`` when no such day exists."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_occurrence(today: date, month: int, day: int) -> date | None:
    """The first M/D on or after ``today`` (looking up to eight years ahead for 2월 29일)."""
    for year in range(today.year, today.year + 9):
        found = _safe(year, month, day)
        if found is not None and found >= today:
            return found
    return None


def _add_months(today: date, months: int) -> tuple[int, int]:
    """(year, month) ``months`` after the month of ``today``."""
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def _iso(m: re.Match[str], today: date) -> date | None:
    return _safe(int(m["y"]), int(m["m"]), int(m["d"]))


def _year_rel(m: re.Match[str], today: date) -> date | None:
    return _safe(today.year + _YEAR_OFFSETS[m["rel"]], int(m["m"]), int(m["d"]))


def _month_day(m: re.Match[str], today: date) -> date | None:
    return _next_occurrence(today, int(m["m"]), int(m["d"]))


def _month_rel(m: re.Match[str], today: date) -> date | None:
    year, month = _add_months(today, _MONTH_OFFSETS[m["rel"]])
    if m["d"] is None:  # 말 / 말일: the last day of that month
        return date(year, month, calendar.monthrange(year, month)[1])
    return _safe(year, month, int(m["d"]))


def _week_rel(m: re.Match[str], today: date) -> date:
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=_WEEK_OFFSETS[m["rel"]])
    return monday + timedelta(days=_WEEKDAYS[m["wd"]] if m["wd"] else 5)


def _bare_weekday(m: re.Match[str], today: date) -> date:
    return today + timedelta(days=(_WEEKDAYS[m["wd"]] - today.weekday()) % 7)


def _day_word(m: re.Match[str], today: date) -> date:
    return today + timedelta(days=_DAY_WORDS[m["word"]])


def _after(m: re.Match[str], today: date) -> date:
    if m["count"] is not None:
        return today + timedelta(days=_COUNT_WORDS[m["count"]])
    return today + timedelta(days=int(m["n"]) * (7 if m["unit"] == "주" else 1))


def _day_only(m: re.Match[str], today: date) -> date | None:
    day = int(m["d"])
    this_month = _safe(today.year, today.month, day)
    if this_month is not None and this_month >= today:
        return this_month
    year, month = _add_months(today, 1)
    return _safe(year, month, day)


def _alternation(words: dict[str, int]) -> str:
    """Regex alternation of ``words``, longest first so 다다음 wins over 다음."""
    return "|".join(
        re.escape(w).replace("\\ ", r"\s?") for w in sorted(words, key=len, reverse=True)
    )


_MONTH_REL_WORD = r"(?P<rel>다다음|다음|담|지난|저번|이번|이|금|내)\s?(?:달|월)"
_PATTERNS: list[tuple[re.Pattern[str], Resolver]] = [
    (
        re.compile(
            rf"{_NOT_AFTER_DIGIT}(?P<y>\d{{4}})\s?[-./]\s?(?P<m>\d{{1,2}})\s?[-./]\s?(?P<d>\d{{1,2}})"
            rf"\.?{_NOT_BEFORE_DIGIT}{_CHECK}"
        ),
        _iso,
    ),
    (
        re.compile(
            rf"{_NOT_AFTER_DIGIT}(?P<y>\d{{4}})\s?년\s?(?P<m>\d{{1,2}})\s?월\s?(?P<d>\d{{1,2}})\s?일{_CHECK}"
        ),
        _iso,
    ),
    (
        re.compile(
            rf"(?P<rel>{_alternation(_YEAR_OFFSETS)})\s?(?P<m>\d{{1,2}})\s?월\s?(?P<d>\d{{1,2}})\s?일{_CHECK}"
        ),
        _year_rel,
    ),
    (
        re.compile(rf"{_NOT_AFTER_DIGIT}(?P<m>\d{{1,2}})\s?월\s?(?P<d>\d{{1,2}})\s?일{_CHECK}"),
        _month_day,
    ),
    (
        re.compile(
            rf"{_NOT_AFTER_DIGIT}(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}}){_NOT_BEFORE_DIGIT}{_CHECK}"
        ),
        _month_day,
    ),
    (
        re.compile(
            rf"{_NOT_IN_WORD}{_MONTH_REL_WORD}\s?(?:(?P<d>\d{{1,2}})\s?일|말일|말(?![씀투])|마지막\s?날){_CHECK}"
        ),
        _month_rel,
    ),
    (
        re.compile(
            rf"{_NOT_IN_WORD}(?P<rel>다다음|다음|담|차|지난|저번|이번|금)\s?주\s?(?:{_WEEKDAY}|말)"
        ),
        _week_rel,
    ),
    (re.compile(rf"(?:(?:이번|오는)\s?)?{_WEEKDAY}"), _bare_weekday),
    (re.compile(rf"{_NOT_IN_WORD}(?P<word>{_alternation(_DAY_WORDS)})"), _day_word),
    (
        re.compile(
            rf"(?:{_NOT_AFTER_DIGIT}(?P<n>\d{{1,3}})\s?(?P<unit>일|주)|"
            rf"{_NOT_IN_WORD}(?P<count>{_alternation(_COUNT_WORDS)}))\s?(?:후|뒤|있다가)"
        ),
        _after,
    ),
    (
        re.compile(
            rf"{_NOT_AFTER_DIGIT}(?P<d>\d{{1,2}})\s?일(?!\s?(?:후|뒤|전|간|동안|째|이내|내|만에|치)){_CHECK}"
        ),
        _day_only,
    ),
]


def today_in_seoul(now: datetime) -> date:
    """The calendar day of ``now`` in Seoul; a naive ``now`` is taken as Seoul wall-clock time."""
    if now.tzinfo is None:
        return now.date()
    return now.astimezone(SEOUL).date()


def find_dates(text: str, now: datetime) -> list[Span[date]]:
    """Date expressions in ``text`` with the day each one means, seen from ``now``."""
    today = today_in_seoul(now)
    # Invalid dates stay in the race so that 2월 30일 is rejected rather than read as 30일.
    spans: list[Span[date | None]] = []
    for pattern, resolve in _PATTERNS:
        for match in pattern.finditer(text):
            value = resolve(match, today)
            named = match.groupdict()
            weekday = named.get("chk1") or named.get("chk2")
            if value is not None and weekday and value.weekday() != _WEEKDAYS[weekday]:
                value = None
            spans.append(Span(match.start(), match.end(), match.group(0), value))
    return [
        Span(s.start, s.end, s.text, s.value) for s in drop_overlaps(spans) if s.value is not None
    ]


_FILLER_RESIDUE = re.compile(
    r"(?:이요|요|에요|이에요|예요|입니다|에|쯤|경|정도|로|으로|까지|이나|요일|날|날짜|"
    r"해주세요|주세요|부탁해요|부탁드려요|할게요|할래요|하고싶어요|예정|이에여|여|이|가|은|는|도|"
    r"이사|결혼식|장례|발인|해요|합니다|가요|갑니다|하려고요|할거예요|할 거예요|"
    r"가능해요|가능할까요|되나요|돼요|괜찮아요|좋아요|네|예)*"
)
_PUNCT_SPACE = re.compile(r"[\s.,!?~^…·ㅎㅋㅠㅜ\"'()]+")


def parse_date(text: str, now: datetime) -> date | None:
    """The date when ``text`` is a date answer (``다음주 토요일이요``), else ``None``.

    Several expressions for the same day (``12월 20일 토요일``) are fine; different days are not.
    """
    spans = find_dates(text, now)
    if not spans or len({s.value for s in spans}) != 1:
        return None
    residue, cursor = [], 0
    for span in spans:
        residue.append(text[cursor : span.start])
        cursor = span.end
    residue.append(text[cursor:])
    if not _FILLER_RESIDUE.fullmatch(_PUNCT_SPACE.sub("", "".join(residue))):
        return None
    return spans[0].value
