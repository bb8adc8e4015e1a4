"""Korean public holidays (관공서의 공휴일) that the business-hours clock skips like weekends.

The table covers 2026 and 2027 only and was compiled offline, not from the official source.
CHECK IT AGAINST THE GOVERNMENT'S ANNUAL ANNOUNCEMENT (월력요항, published each June for the
following year, and the 인사혁신처 notices): election days, days designated at short notice
(임시공휴일) and changes to the law are announced later. Until the table is updated, such days
can be added with ``MILCHAK_EXTRA_HOLIDAYS`` (also for company days off).

Rules used (공휴일에 관한 법률 and 관공서의 공휴일에 관한 규정 as amended in 2026):

* 노동절 (1 May) and 제헌절 (17 Jul) are public holidays from 2026.
* Substitute holidays (대체공휴일) fall on the first weekday after the holiday that is not itself
  a holiday:
  - 설날 and 추석 (the three-day periods) only when the period overlaps a Sunday or another public
    holiday; an overlap with a Saturday does not count.
  - 삼일절, 노동절, 어린이날, 부처님오신날, 제헌절, 광복절, 개천절, 한글날 and 기독탄신일 when the day
    falls on a Saturday or Sunday or on another public holiday.
  - Never for 1월 1일, 현충일 or election days.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Final

log = logging.getLogger(__name__)

PUBLIC_HOLIDAYS: Final[dict[date, str]] = {
    # --- 2026 ---
    date(2026, 1, 1): "1월 1일",  # Thu; no substitute rule for 1 January
    date(2026, 2, 16): "설날 전날",  # Mon; lunar 12/29 (last day of the lunar year)
    date(2026, 2, 17): "설날",  # Tue; lunar 1/1
    date(2026, 2, 18): "설날 다음 날",  # Wed; the period has no Sunday, so no substitute
    date(2026, 3, 1): "삼일절",  # Sun
    date(2026, 3, 2): "대체공휴일(삼일절)",  # Mon; first non-holiday weekday after 1 Mar
    date(2026, 5, 1): "노동절",  # Fri; a public holiday from 2026
    date(2026, 5, 5): "어린이날",  # Tue
    date(2026, 5, 24): "부처님오신날",  # Sun; lunar 4/8
    date(2026, 5, 25): "대체공휴일(부처님오신날)",  # Mon
    date(2026, 6, 3): "전국동시지방선거",  # Wed; 9th nationwide local elections (election day)
    date(2026, 6, 6): "현충일",  # Sat; 현충일 has no substitute rule
    date(2026, 7, 17): "제헌절",  # Fri; a public holiday again from 2026
    date(2026, 8, 15): "광복절",  # Sat
    date(2026, 8, 17): "대체공휴일(광복절)",  # Mon
    date(2026, 9, 24): "추석 전날",  # Thu; lunar 8/14
    date(2026, 9, 25): "추석",  # Fri; lunar 8/15
    # Sat. The period overlaps a Saturday but no Sunday, so there is no substitute day
    # (Mon 28 Sep 2026 is a working day).
    date(2026, 9, 26): "추석 다음 날",
    date(2026, 10, 3): "개천절",  # Sat
    date(2026, 10, 5): "대체공휴일(개천절)",  # Mon
    date(2026, 10, 9): "한글날",  # Fri
    date(2026, 12, 25): "기독탄신일",  # Fri
    # --- 2027 ---
    date(2027, 1, 1): "1월 1일",  # Fri
    date(2027, 2, 6): "설날 전날",  # Sat; lunar 12/29
    date(2027, 2, 7): "설날",  # Sun; lunar 1/1 (in Korea; China's new year is 6 Feb)
    date(2027, 2, 8): "설날 다음 날",  # Mon
    date(2027, 2, 9): "대체공휴일(설날)",  # Tue; the period overlaps Sunday 7 Feb
    date(2027, 3, 1): "삼일절",  # Mon
    date(2027, 5, 1): "노동절",  # Sat
    date(2027, 5, 3): "대체공휴일(노동절)",  # Mon
    date(2027, 5, 5): "어린이날",  # Wed
    date(2027, 5, 13): "부처님오신날",  # Thu; lunar 4/8
    date(2027, 6, 6): "현충일",  # Sun; no substitute rule
    date(2027, 7, 17): "제헌절",  # Sat
    date(2027, 7, 19): "대체공휴일(제헌절)",  # Mon
    date(2027, 8, 15): "광복절",  # Sun
    date(2027, 8, 16): "대체공휴일(광복절)",  # Mon
    date(2027, 9, 14): "추석 전날",  # Tue; lunar 8/14
    date(2027, 9, 15): "추석",  # Wed; lunar 8/15
    date(2027, 9, 16): "추석 다음 날",  # Thu; no Sunday in the period, no substitute
    date(2027, 10, 3): "개천절",  # Sun
    date(2027, 10, 4): "대체공휴일(개천절)",  # Mon
    date(2027, 10, 9): "한글날",  # Sat
    date(2027, 10, 11): "대체공휴일(한글날)",  # Mon (4 Oct is already a holiday, 9–10 the weekend)
    date(2027, 12, 25): "기독탄신일",  # Sat
    date(2027, 12, 27): "대체공휴일(기독탄신일)",  # Mon
}

# Years the table is complete for; outside them only weekends and extra days are closed.
COVERED_YEARS: Final[frozenset[int]] = frozenset(day.year for day in PUBLIC_HOLIDAYS)


def closed_days(extra: Iterable[date] = ()) -> frozenset[date]:
    """Public holidays plus ``extra`` closed days (company days off, newly announced holidays)."""
    return frozenset(PUBLIC_HOLIDAYS) | frozenset(extra)


def warn_if_uncovered(today: date) -> None:
    """Log a warning (at start-up) when the table has no holidays for ``today``'s year."""
    if today.year not in COVERED_YEARS:
        log.warning(
            "no public holidays for %d in bot/services/holidays.py: loan deadlines treat them "
            "as working days until the table is extended (or MILCHAK_EXTRA_HOLIDAYS is set)",
            today.year,
        )
