"""Dates in Korean → a day, a month or a week, relative to a given moment in Asia/Seoul.

Understands 오늘 내일 모레 글피 (and 어제, 그제), 이번주 / 다음주 / 다다음주 + 요일, bare 요일
(the next one), 이번 주말, 이달 / 다음달 N일 and 말일, M월 N일 (next occurrence), 올해 / 내년
M월 N일, 2026년 12월 20일, 2026-12-20, 12/20, N일 (this month or next), and N일 / N주 / 사흘 /
열흘 뒤. Rough dates name a ``Month`` (내년 3월, 다음달, 다음달 초 / 중순 / 말, 3월쯤, 2027년 3월) or
an ISO ``Week`` (다음 주, 다음주 중, 2주 뒤 주중, 12월 첫째 주) when no day is given; partners
only need that much. Months and days may be Hangul numerals (십이월 이십오일, 시월, 유월, 다음 달 오일); a bare
Hangul day (이십일, 오일) needs clear word boundaries because 일일, 오일 are also ordinary words.
Only the standard library is used: the app imports this module too.
"""

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nlu.numerals import numeral_value
from nlu.spans import Span, drop_overlaps

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True, order=True)
class Month:
    """A whole month (내년 3월, 다음달 초): ``2027-03``."""

    year: int
    month: int

    def isoformat(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week, Monday to Sunday (다음 주, 12월 첫째 주): ``2026-W49``."""

    year: int
    week: int

    @classmethod
    def of(cls, day: date) -> "Week":
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def isoformat(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def first(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def last(self) -> date:
        return date.fromisocalendar(self.year, self.week, 7)


When = date | Month | Week
"""What a date expression names: one day, or a month or week when no day was given."""

_ISO_WHEN = re.compile(r"(\d{4})-(?:(\d{2})-(\d{2})|(\d{2})|W(\d{2}))")


def when_from_iso(text: str) -> When | None:
    """The value of ``2026-12-05``, ``2027-03`` or ``2026-W49``; None for anything else."""
    m = _ISO_WHEN.fullmatch(text.strip())
    if m is None:
        return None
    year = int(m[1])
    try:
        if m[2]:
            return date(year, int(m[2]), int(m[3]))
        if m[4]:
            return Month(year, int(m[4])) if 1 <= int(m[4]) <= 12 else None
        week = Week(year, int(m[5]))
        week.first  # noqa: B018 - raises for a week the year does not have
        return week
    except ValueError:
        return None


def last_day(value: When) -> date:
    """The last day ``value`` covers: a booking is in the past only once all of it is."""
    return value if isinstance(value, date) else value.last


_ORDINALS = ("첫째", "둘째", "셋째", "넷째", "다섯째")


def when_label(value: When) -> str:
    """How the customer and the employee read it: 2026년 12월 5일 (토), 2027년 3월 중,
    2026년 12월 첫째 주 (a week belongs to the month of its Thursday, as calendars count)."""
    if isinstance(value, Month):
        return f"{value.year}년 {value.month}월 중"
    if isinstance(value, Week):
        thursday = value.first + timedelta(days=3)
        nth = _ORDINALS[(thursday.day - 1) // 7]
        return f"{thursday.year}년 {thursday.month}월 {nth} 주"
    weekday = "월화수목금토일"[value.weekday()]
    return f"{value.year}년 {value.month}월 {value.day}일 ({weekday})"


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
    "어젯밤": -1,
    "어제밤": -1,
    "어젯저녁": -1,
    "간밤": -1,
    "그제": -2,
    "그저께": -2,
    "엊그제": -2,
}
_COUNT_WORDS = {
    "하루": 1,
    "이틀": 2,
    "사흘": 3,
    "나흘": 4,
    "닷새": 5,
    "엿새": 6,
    "이레": 7,
    "일주일": 7,
    "여드레": 8,
    "아흐레": 9,
    "열흘": 10,
    "보름": 15,
}
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

# Digits must not continue a number, Hangul numerals must not continue a word (구월동, 친구일).
_NUMBER_START = rf"{_NOT_AFTER_DIGIT}(?:(?=\d)|{_NOT_IN_WORD})"
# N일 후, N일간, N일 동안 … count days rather than name one.
_NOT_DURATION = r"(?!\s?(?:후|뒤|전|간|동안|째|이내|내|만에|치))"

# Hangul numerals for months and days, longest first so that 십이월 is December and 이십일일 the
# 21st. Days up to 39 match; days a month lacks are rejected when resolved, like 2월 30일.
_HANGUL_MONTH = r"십[일이]?|[일이삼사오육칠팔구]|[시유]"
_SPOKEN_MONTHS = {"시": 10, "유": 6}  # 시월 and 유월: how 10월 and 6월 are said
_HANGUL_DAY = r"[이삼]?십[일이삼사오육칠팔구]?|[일이삼사오육칠팔구]"
# Particles and endings that may follow a Hangul day (이십일에는, 오일까지요, 이십일날). Not 이나:
# after a count it means "as many as" (삼일이나 걸렸어요).
_PARTICLES = (
    r"(?:에|까지|부터|쯤|경|께|날|로|으로|도|은|는|엔|하고|이랑|이면|이고|"
    r"요|이요|예요|이에요|이예요|입니다|인데)+(?![가-힣])"
)
# A Hangul day ends its word, or only particles follow (a subject 이 too: 삼월 오일이 좋아요).
_HANGUL_DAY_END = rf"(?=[^가-힣]|$|{_PARTICLES}|이(?![가-힣]))"
# 일일, 오일, 삼십일 alone are also words or plain numbers (일일 한도, 엔진 오일, 삼십일 살): they name
# a day only before a particle, at the end of a clause, or before the weekday they fall on.
_CLAUSE_END = rf"(?={_PARTICLES}|\s*(?:$|[^\s\w])|\s?(?:\(|[월화수목금토일](?:요일|욜)))"

_MONTH = rf"(?:(?P<m>\d{{1,2}})\s?월|(?P<hm>{_HANGUL_MONTH})월)"
_DAY = rf"(?:(?P<d>\d{{1,2}})\s?일|(?P<hd>{_HANGUL_DAY})일{_HANGUL_DAY_END})"

Resolver = Callable[[re.Match[str], date], When | None]


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


def _hangul(numeral: str) -> int:
    """Value of a Hangul numeral the patterns have already vetted (이십일 → 21, 시 → 10)."""
    value = _SPOKEN_MONTHS.get(numeral) or numeral_value(numeral)
    if value is None:
        raise ValueError(f"not a Hangul numeral: {numeral}")
    return value


def _number(m: re.Match[str], digits: str, hangul: str) -> int:
    """The number in group ``digits``, or else the Hangul numeral in group ``hangul``."""
    written = m.groupdict().get(digits)
    return int(written) if written is not None else _hangul(m[hangul])


def _month(m: re.Match[str]) -> int:
    return _number(m, "m", "hm")


def _day(m: re.Match[str]) -> int:
    return _number(m, "d", "hd")


def _add_months(today: date, months: int) -> tuple[int, int]:
    """(year, month) ``months`` after the month of ``today``."""
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def _iso(m: re.Match[str], today: date) -> date | None:
    return _safe(int(m["y"]), _month(m), _day(m))


def _year_rel(m: re.Match[str], today: date) -> date | None:
    return _safe(today.year + _YEAR_OFFSETS[m["rel"]], _month(m), _day(m))


def _month_day(m: re.Match[str], today: date) -> date | None:
    return _next_occurrence(today, _month(m), _day(m))


def _month_rel(m: re.Match[str], today: date) -> date | None:
    year, month = _add_months(today, _MONTH_OFFSETS[m["rel"]])
    if m["d"] is None and m["hd"] is None:  # 말일, 마지막 날: the last day of that month
        return date(year, month, calendar.monthrange(year, month)[1])
    return _safe(year, month, _day(m))


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
    weeks = m["unit"].startswith("주")  # 2주, 2주일
    return today + timedelta(days=_number(m, "n", "hn") * (7 if weeks else 1))


def _day_only(m: re.Match[str], today: date) -> date | None:
    day = _day(m)
    this_month = _safe(today.year, today.month, day)
    if this_month is not None and this_month >= today:
        return this_month
    year, month = _add_months(today, 1)
    return _safe(year, month, day)


def _month_of(year: int, month: int) -> Month | None:
    return Month(year, month) if 1 <= month <= 12 else None


def _iso_month(m: re.Match[str], today: date) -> Month | None:
    return _month_of(int(m["y"]), _month(m))


def _year_rel_month(m: re.Match[str], today: date) -> Month | None:
    return _month_of(today.year + _YEAR_OFFSETS[m["rel"]], _month(m))


def _bare_month(m: re.Match[str], today: date) -> Month | None:
    """3월쯤: this year's March while it has not passed, else next year's."""
    month = _month(m)
    return _month_of(today.year if month >= today.month else today.year + 1, month)


def _month_rel_rough(m: re.Match[str], today: date) -> Month:
    return Month(*_add_months(today, _MONTH_OFFSETS[m["rel"]]))


def _week_rel_rough(m: re.Match[str], today: date) -> Week:
    return Week.of(today + timedelta(weeks=_WEEK_OFFSETS[m["rel"]]))


def _weeks_after_rough(m: re.Match[str], today: date) -> Week:
    return Week.of(today + timedelta(weeks=_number(m, "n", "hn")))


_NTH = {"첫째": 1, "첫": 1, "둘째": 2, "두째": 2, "셋째": 3, "세째": 3, "넷째": 4, "네째": 4}
_NTH.update({"다섯째": 5, "마지막": -1})


def _nth_week(m: re.Match[str], today: date) -> Week | None:
    """12월 첫째 주: the week holding the month's first Thursday, and so on."""
    if m["rel"] is not None:
        year, month = _add_months(today, _MONTH_OFFSETS[m["rel"]])
    else:
        found = _bare_month(m, today)
        if found is None:
            return None
        year, month = found.year, found.month
    first = date(year, month, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    nth = _NTH[m["nth"]]
    if nth < 0:
        last = Month(year, month).last
        thursday = last - timedelta(days=(last.weekday() - 3) % 7)
    else:
        thursday += timedelta(weeks=nth - 1)
    return Week.of(thursday) if thursday.month == month else None


def _alternation(words: dict[str, int]) -> str:
    """Regex alternation of ``words``, longest first so 다다음 wins over 다음."""
    return "|".join(
        re.escape(w).replace("\\ ", r"\s?") for w in sorted(words, key=len, reverse=True)
    )


# Not 이월: that is February.
# What may follow a month or week named without a day: 초, 중순, 말, 중, 쯤 …
_ROUGH = r"(?:\s?(?:초순|초|중순|중|하순|말(?![씀투])|쯤|경|즈음|무렵|께))?"
_WEEK_ROUGH = r"(?:\s?(?:주중|평일|중|쯤|경|즈음|무렵|께))?"
# A digit month alone (3월쯤); Hangul months alone (시월, 이월) are too often other words.
_DIGIT_MONTH = r"(?P<m>\d{1,2})\s?월(?!\s?\d|요일)"
# A week word must end there: not 다음 주소, 이번 주문, 다음 주세요.
_WEEK_PARTICLE_OK = (
    r"(?=[^가-힣]|$|에|엔|중|쯤|내|안|까지|는|도|부터|즈음|께|경|요|이|나|정도|주중|평일)"
)
_MONTH_REL_WORD = r"(?P<rel>다다음|다음|담|지난|저번|이번|이|금|내)\s?(?:달|(?<!이)월)"
_PATTERNS: list[tuple[re.Pattern[str], Resolver]] = [
    (
        re.compile(
            rf"{_NOT_AFTER_DIGIT}(?P<y>\d{{4}})\s?[-./]\s?(?P<m>\d{{1,2}})\s?[-./]\s?(?P<d>\d{{1,2}})"
            rf"\.?{_NOT_BEFORE_DIGIT}{_CHECK}"
        ),
        _iso,
    ),
    (
        re.compile(rf"{_NOT_AFTER_DIGIT}(?P<y>\d{{4}})\s?년\s?{_MONTH}\s?{_DAY}{_CHECK}"),
        _iso,
    ),
    (
        re.compile(rf"(?P<rel>{_alternation(_YEAR_OFFSETS)})\s?{_MONTH}\s?{_DAY}{_CHECK}"),
        _year_rel,
    ),
    (
        re.compile(rf"{_NUMBER_START}{_MONTH}\s?{_DAY}{_CHECK}"),
        _month_day,
    ),
    (
        re.compile(
            rf"{_NOT_AFTER_DIGIT}(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}}){_NOT_BEFORE_DIGIT}{_CHECK}"
        ),
        _month_day,
    ),
    (
        re.compile(rf"{_NOT_IN_WORD}{_MONTH_REL_WORD}\s?(?:{_DAY}|말일|마지막\s?날){_CHECK}"),
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
            rf"(?:(?:{_NOT_AFTER_DIGIT}(?P<n>\d{{1,3}})\s?|{_NOT_IN_WORD}(?P<hn>{_HANGUL_DAY}))"
            rf"(?P<unit>일|주일?)|{_NOT_IN_WORD}(?P<count>{_alternation(_COUNT_WORDS)}))"
            r"\s?(?:후|뒤|있다가)"
        ),
        _after,
    ),
    (
        re.compile(rf"{_NOT_AFTER_DIGIT}(?P<d>\d{{1,2}})\s?일{_NOT_DURATION}{_CHECK}"),
        _day_only,
    ),
    # Rough dates: a month or a week when no day is given.
    (
        re.compile(rf"{_NOT_AFTER_DIGIT}(?P<y>\d{{4}})\s?년\s?{_MONTH}{_ROUGH}"),
        _iso_month,
    ),
    (
        re.compile(rf"(?P<rel>{_alternation(_YEAR_OFFSETS)})\s?{_MONTH}{_ROUGH}"),
        _year_rel_month,
    ),
    (re.compile(rf"{_NOT_AFTER_DIGIT}{_DIGIT_MONTH}{_ROUGH}"), _bare_month),
    # Only 달 here: 내 월급, 다음 월요일 are no months.
    (
        re.compile(
            rf"{_NOT_IN_WORD}(?P<rel>다다음|다음|담|지난|저번|이번|이|금|내)\s?달(?!력){_ROUGH}"
        ),
        _month_rel_rough,
    ),
    (
        re.compile(
            rf"{_NOT_IN_WORD}(?P<rel>다다음|다음|담|차|지난|저번|이번|금)\s?주(?:일)?"
            rf"{_WEEK_PARTICLE_OK}(?!\s?(?:[월화수목금토일](?:요일|욜)|말)){_WEEK_ROUGH}"
        ),
        _week_rel_rough,
    ),
    (
        re.compile(
            rf"(?:{_NOT_AFTER_DIGIT}(?P<n>\d{{1,2}})\s?|{_NOT_IN_WORD}(?P<hn>{_HANGUL_DAY}))"
            r"주일?\s?(?:후|뒤|있다가)\s?(?:에\s?)?(?:주중|평일|중|쯤|즈음|무렵)"
        ),
        _weeks_after_rough,
    ),
    (
        re.compile(
            rf"(?:{_NOT_IN_WORD}{_MONTH_REL_WORD}|{_NOT_AFTER_DIGIT}{_DIGIT_MONTH})\s?"
            r"(?P<nth>첫째|첫|둘째|두째|셋째|세째|넷째|네째|다섯째|마지막)\s?주"
        ),
        _nth_week,
    ),
    # 십오일, 이십일일 are neither ordinary words nor plain numbers: a word boundary is enough.
    (
        re.compile(
            rf"{_NOT_IN_WORD}(?P<hd>[이삼]?십[일이삼사오육칠팔구])일"
            rf"{_HANGUL_DAY_END}{_NOT_DURATION}{_CHECK}"
        ),
        _day_only,
    ),
    # 이십일 (or 21?), 오일 (or oil?), 일일 (or daily?): see _CLAUSE_END.
    (
        re.compile(rf"{_NOT_IN_WORD}(?P<hd>[이삼]?십|[일이삼사오육칠팔구])일{_CLAUSE_END}{_CHECK}"),
        _day_only,
    ),
]


def today_in_seoul(now: datetime) -> date:
    """The calendar day of ``now`` in Seoul; a naive ``now`` is taken as Seoul wall-clock time."""
    if now.tzinfo is None:
        return now.date()
    return now.astimezone(SEOUL).date()


def find_dates(text: str, now: datetime) -> list[Span[When]]:
    """Date expressions in ``text`` with the day (or month, or week) each one means, seen
    from ``now``."""
    today = today_in_seoul(now)
    # Invalid dates stay in the race so that 2월 30일 is rejected rather than read as 30일.
    spans: list[Span[When | None]] = []
    for pattern, resolve in _PATTERNS:
        for match in pattern.finditer(text):
            value = resolve(match, today)
            named = match.groupdict()
            weekday = named.get("chk1") or named.get("chk2")
            if isinstance(value, date) and weekday and value.weekday() != _WEEKDAYS[weekday]:
                value = None
            spans.append(Span(match.start(), match.end(), match.group(0), value))
    return [
        Span(s.start, s.end, s.text, s.value) for s in drop_overlaps(spans) if s.value is not None
    ]


_FILLER_RESIDUE = re.compile(
    r"(?:이요|요|에요|이에요|예요|입니다|에|쯤|경|정도|로|으로|까지|이나|요일|날|날짜|안에|안|내로|"
    r"아침|새벽|저녁|오전|오후|점심|밤|낮|예|입니더|이라예|"
    r"해주세요|주세요|부탁해요|부탁드려요|할게요|할래요|하고싶어요|예정|이에여|여|이|가|은|는|도|"
    r"이사|결혼식|장례|발인|해요|합니다|가요|갑니다|하려고요|할거예요|할 거예요|"
    r"가능해요|가능할까요|되나요|돼요|괜찮아요|좋아요|네|예)*"
)
_PUNCT_SPACE = re.compile(r"[\s.,!?~^…·ㅎㅋㅠㅜ\"'()]+")


def parse_date(text: str, now: datetime) -> When | None:
    """The date when ``text`` is a date answer (``다음주 토요일이요``, ``내년 3월쯤요``), else
    ``None``.

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


def date_in_answer(text: str, now: datetime) -> When | None:
    """The date a reply to "언제인가요?" gives: a clean date answer, or else the one date the
    reply names ("내년 4월쯤 할 것 같아요", "오늘 새벽에 돌아가셨어요"); None when it names none
    or several different ones."""
    found = parse_date(text, now)
    if found is not None:
        return found
    values = {s.value for s in find_dates(text, now)}
    return values.pop() if len(values) == 1 else None
